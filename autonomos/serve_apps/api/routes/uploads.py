"""/api/v1/aam/uploads: the tenant's upload area, what a hosted files connection reads.

Bodies here have their own size limit (``AUTONOMOS_UPLOAD_MAX_BYTES``, enforced by the
middleware while the body streams in) instead of the API's small JSON limit.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, File, Path, Query, UploadFile, status

from autonomos.aam.uploads import (
    NAME_PATTERN,
    InvalidUpload,
    UploadArea,
    check_file_name,
    check_name,
)
from autonomos.auth.service import audit
from autonomos.serve_apps.api.deps import (
    CurrentPrincipal,
    Operator,
    RequestId,
    SettingsDep,
    TenantSession,
    Viewer,
)
from autonomos.serve_apps.api.errors import ApiError
from autonomos.serve_apps.api.schemas_aam import (
    UploadedFile,
    UploadFolderList,
    UploadFolderOut,
    UploadOut,
)

UPLOADS_PATH = "/api/v1/aam/uploads"
router = APIRouter(prefix="/api/v1/aam", tags=["aam"])
_ERRORS = {
    413: {"description": "the request is larger than AUTONOMOS_UPLOAD_MAX_BYTES"},
    422: {"description": "invalid folder or file name, or a file type the connector skips"},
}


async def tenant_uploads(settings: SettingsDep, principal: CurrentPrincipal) -> UploadArea:
    return UploadArea.of(settings, principal.tenant_id)


Uploads = Annotated[UploadArea, Depends(tenant_uploads)]


def _invalid(exc: InvalidUpload) -> ApiError:
    return ApiError(422, "invalid_upload", str(exc))


@router.post(
    "/uploads",
    operation_id="uploadFiles",
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,  # type: ignore[arg-type]
)
async def upload_files(
    op: Operator,
    area: Uploads,
    session: TenantSession,
    rid: RequestId,
    folder: Annotated[
        str,
        Query(
            description="Folder of the upload area to put the files in",
            pattern=NAME_PATTERN,
        ),
    ],
    file: Annotated[list[UploadFile], File(description="One or more files (field `file`)")],
) -> UploadOut:
    """Store files in a folder of the tenant's upload area; a file of the same name in
    that folder is replaced atomically (how a changed export arrives). A files
    connection with config `{"path": <path>}` then reads the folder."""
    names = [f.filename or "" for f in file]  # checked before anything is written
    try:
        check_name(folder, "folder")
        for name in names:
            check_file_name(name)
    except InvalidUpload as e:
        raise _invalid(e) from None
    if len(set(names)) != len(names):
        raise ApiError(422, "invalid_upload", "the same file name is sent twice")
    stored = []
    for name, upload in zip(names, file, strict=True):
        try:
            stored.append(await anyio.to_thread.run_sync(area.save, folder, name, upload.file))
        finally:
            await upload.close()
    await audit(
        session,
        "upload.store",
        "upload_folder",
        folder,
        actor_id=op.user_id,
        request_id=rid,
        files=[{"name": f.name, "bytes": f.bytes} for f in stored],
    )
    return UploadOut(path=folder, files=[UploadedFile(name=f.name, bytes=f.bytes) for f in stored])


@router.get("/uploads", operation_id="listUploads")
async def list_uploads(_: Viewer, area: Uploads) -> UploadFolderList:
    """The upload area's folders with their files and sizes."""
    folders = await anyio.to_thread.run_sync(area.folders)
    return UploadFolderList(
        folders=[
            UploadFolderOut(
                name=f.name,
                path=f.name,
                files=[UploadedFile(name=x.name, bytes=x.bytes) for x in f.files],
                bytes=f.bytes,
            )
            for f in folders
        ]
    )


@router.delete(
    "/uploads/{folder}",
    operation_id="deleteUploadFolder",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such folder"}, 422: _ERRORS[422]},
)
async def delete_upload_folder(
    folder: Annotated[str, Path(pattern=NAME_PATTERN)],
    op: Operator,
    area: Uploads,
    session: TenantSession,
    rid: RequestId,
) -> None:
    """Remove a folder of the upload area and its files."""
    try:
        await anyio.to_thread.run_sync(area.delete, folder)
    except InvalidUpload as e:
        raise _invalid(e) from None
    await audit(
        session, "upload.delete", "upload_folder", folder, actor_id=op.user_id, request_id=rid
    )

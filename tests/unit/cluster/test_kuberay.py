"""cluster/kuberay/*.yaml against the KubeRay CRDs' documented fields (KubeRay >= 1.5.1).

The CRDs cannot be fetched at run time and no PyPI package ships them, so the fields
these manifests rely on are encoded here from the ``ray.io/v1`` CRDs
(``ray.io_rayservices.yaml``, ``ray.io_rayjobs.yaml``): the same names, types, enums and
required fields, and ``extra="forbid"`` everywhere, so a misspelt or misplaced field (which
the API server would prune or refuse) fails the test. Pod templates are checked for the
core/v1 fields they use.
"""

from __future__ import annotations

import shlex
from typing import Literal

import pytest
import ray
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ray.runtime_env import RuntimeEnv

from autonomos.jobs.batch_map import _parse
from tests.unit.cluster.conftest import load


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- core/v1 (the parts of a PodTemplateSpec the manifests use) --------------------------
class SecretKeyRef(Strict):
    name: str
    key: str
    optional: bool | None = None


class ValueFrom(Strict):
    secretKeyRef: SecretKeyRef


class EnvVar(Strict):
    name: str
    value: str | None = None
    valueFrom: ValueFrom | None = None


class NameRef(Strict):
    name: str
    optional: bool | None = None


class EnvFrom(Strict):
    secretRef: NameRef | None = None
    configMapRef: NameRef | None = None
    prefix: str | None = None


class Port(Strict):
    containerPort: int = Field(ge=1, le=65535)
    name: str | None = Field(None, max_length=15)
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None


class Resources(Strict):
    limits: dict[str, str | int] = {}
    requests: dict[str, str | int] = {}


class VolumeMount(Strict):
    name: str
    mountPath: str
    readOnly: bool | None = None


class Container(Strict):
    name: str
    image: str
    imagePullPolicy: Literal["Always", "IfNotPresent", "Never"] | None = None
    env: list[EnvVar] = []
    envFrom: list[EnvFrom] = []
    ports: list[Port] = []
    resources: Resources | None = None
    volumeMounts: list[VolumeMount] = []


class Volume(Strict):
    name: str
    emptyDir: dict[str, str] | None = None


class Toleration(Strict):
    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class PodSpec(Strict):
    containers: list[Container] = Field(min_length=1)
    volumes: list[Volume] = []
    tolerations: list[Toleration] = []
    nodeSelector: dict[str, str] = {}


class PodTemplate(Strict):
    metadata: dict[str, dict[str, str]] | None = None
    spec: PodSpec


# -- ray.io/v1 ---------------------------------------------------------------------------
class HeadGroupSpec(Strict):
    rayStartParams: dict[str, str] = {}  # map[string]string in the CRD: quote numbers
    serviceType: str | None = None
    template: PodTemplate


class WorkerGroupSpec(Strict):
    groupName: str
    replicas: int | None = Field(None, ge=0)
    minReplicas: int = Field(ge=0)
    maxReplicas: int = Field(ge=0)
    idleTimeoutSeconds: int | None = None
    rayStartParams: dict[str, str] = {}
    template: PodTemplate


class AutoscalerOptions(Strict):
    upscalingMode: Literal["Default", "Aggressive", "Conservative"] | None = None
    idleTimeoutSeconds: int | None = None


class RedisPassword(Strict):
    value: str | None = None
    valueFrom: ValueFrom | None = None


class GcsFaultToleranceOptions(Strict):
    redisAddress: str
    redisPassword: RedisPassword | None = None
    redisUsername: RedisPassword | None = None
    externalStorageNamespace: str | None = None


class AuthOptions(Strict):
    mode: Literal["disabled", "token"]


class RayClusterSpec(Strict):
    rayVersion: str
    headGroupSpec: HeadGroupSpec
    workerGroupSpecs: list[WorkerGroupSpec] = []
    enableInTreeAutoscaling: bool | None = None
    autoscalerOptions: AutoscalerOptions | None = None
    gcsFaultToleranceOptions: GcsFaultToleranceOptions | None = None
    authOptions: AuthOptions | None = None


class Metadata(Strict):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    namespace: str | None = None
    labels: dict[str, str] = {}


class RayServiceSpec(Strict):
    serveConfigV2: str
    rayClusterConfig: RayClusterSpec
    serviceUnhealthySecondThreshold: int | None = None
    deploymentUnhealthySecondThreshold: int | None = None


class RayService(Strict):
    apiVersion: Literal["ray.io/v1"]
    kind: Literal["RayService"]
    metadata: Metadata
    spec: RayServiceSpec


class RayJobSpec(Strict):
    entrypoint: str
    runtimeEnvYAML: str | None = None
    submissionMode: Literal["K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode"] = (
        "K8sJobMode"
    )
    shutdownAfterJobFinishes: bool | None = None
    ttlSecondsAfterFinished: int | None = Field(None, ge=0)
    activeDeadlineSeconds: int | None = Field(None, ge=0)
    backoffLimit: int | None = Field(None, ge=0)
    rayClusterSpec: RayClusterSpec | None = None
    clusterSelector: dict[str, str] = {}


class RayJob(Strict):
    apiVersion: Literal["ray.io/v1"]
    kind: Literal["RayJob"]
    metadata: Metadata
    spec: RayJobSpec


def check_cluster_spec(spec: RayClusterSpec) -> None:
    assert spec.rayVersion == ray.__version__  # the image runs the Ray the project pins
    assert spec.authOptions is not None and spec.authOptions.mode == "token"
    pods = [spec.headGroupSpec.template] + [g.template for g in spec.workerGroupSpecs]
    images = {c.image for p in pods for c in p.spec.containers}
    assert len(images) == 1  # one image for the whole cluster (cluster/Dockerfile)
    for pod in pods:
        (container,) = pod.spec.containers
        # the platform's settings (Postgres, the landing URL, secrets) in every pod
        assert [e.secretRef.name for e in container.envFrom if e.secretRef] == [
            "autonomos-settings"
        ]
        data = {e.name: e.value for e in container.env}["AUTONOMOS_DATA_DIR"]
        assert data in {m.mountPath for m in container.volumeMounts}
    for group in spec.workerGroupSpecs:
        assert group.minReplicas <= (group.replicas or 0) <= group.maxReplicas


def test_rayservice_matches_the_crd_and_runs_the_platform() -> None:
    service = RayService.model_validate(load("kuberay/rayservice.yaml"))
    cluster = service.spec.rayClusterConfig
    check_cluster_spec(cluster)
    assert cluster.enableInTreeAutoscaling is True
    assert cluster.gcsFaultToleranceOptions is not None  # the head can restart
    password = cluster.gcsFaultToleranceOptions.redisPassword
    assert password is not None and password.valueFrom is not None  # from a Secret
    groups = {g.groupName: g for g in cluster.workerGroupSpecs}
    assert set(groups) == {"cpu", "gpu"}
    gpu = groups["gpu"].template.spec.containers[0].resources
    assert gpu is not None and gpu.limits["nvidia.com/gpu"] == "1"
    assert groups["gpu"].minReplicas == 0 < groups["gpu"].maxReplicas
    assert cluster.headGroupSpec.rayStartParams["num-cpus"] == "0"


def test_rayjob_matches_the_crd_and_its_entrypoint_parses() -> None:
    job = RayJob.model_validate(load("kuberay/rayjob-batch-map.yaml"))
    assert job.spec.rayClusterSpec is not None and job.spec.shutdownAfterJobFinishes
    check_cluster_spec(job.spec.rayClusterSpec)
    argv = shlex.split(job.spec.entrypoint)
    assert argv[:3] == ["python", "-m", "autonomos.jobs.batch_map"]
    args = _parse(argv[3:])  # the job's own parser: an unknown flag exits 2 here
    assert args.tenant == "Demo Corp" and args.no_materialize
    RuntimeEnv(**yaml.safe_load(job.spec.runtimeEnvYAML or "{}"))


@pytest.mark.parametrize(
    ("path", "value", "why"),
    [
        (("spec", "rayClusterConfig", "headGroupSpec", "rayStartParams", "num-cpus"), 0, "str"),
        (("spec", "rayClusterConfig", "workerGroupSpecs", 0, "maxReplica"), 8, "Extra"),
        (("spec", "rayClusterConfig", "authOptions", "mode"), "on", "disabled"),
        (("spec", "rayClusterConfig", "autoscalerOptions", "upscalingMode"), "Fast", "Default"),
    ],
)
def test_the_encoded_crd_catches_mistakes(path: tuple, value: object, why: str) -> None:
    doc = load("kuberay/rayservice.yaml")
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError, match=why):
        RayService.model_validate(doc)

"""The edge guard's pieces: address classes, the allow-list, local roots, URL splitting."""

from __future__ import annotations

import ipaddress
import os
import uuid
from pathlib import Path

import pytest

from autonomos.aam.edge import edge_policy
from autonomos.connectors.edge import EdgeRefused, HostRules, LocalRoots, address_kind, split_url
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64
        ("2002:a9fe:a9fe::", "metadata"),  # 6to4
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff0e::1", "multicast"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("198.51.100.7", "private"),  # documentation
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    found = address_kind(ipaddress.ip_address(address))
    assert found is not None and kind in found


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) is None


def test_allow_list_by_name_wildcard_and_network() -> None:
    rules = HostRules.parse(["db.corp.example", "*.lake.example", "10.0.0.0/8", " ", "[::1]"])
    rules.check_address("db.corp.example", ipaddress.ip_address("172.16.0.1"))
    rules.check_address("a.lake.example", ipaddress.ip_address("192.168.0.1"))
    rules.check_address("anything", ipaddress.ip_address("10.9.9.9"))
    rules.check_address("anything", ipaddress.ip_address("::1"))
    with pytest.raises(EdgeRefused):
        rules.check_address("lake.example", ipaddress.ip_address("192.168.0.1"))
    with pytest.raises(EdgeRefused):
        rules.check_address("evil.example", ipaddress.ip_address("172.16.0.1"))


def test_resolve_checks_every_answer_and_literal_forms() -> None:
    rules = HostRules()
    for host in ("localhost", "127.0.0.1", "2130706433", "0x7f000001", "[::1]"):
        with pytest.raises(EdgeRefused):
            rules.resolve(host, 80)
    assert rules.resolve("8.8.8.8", 443) == ["8.8.8.8"]
    # a name that does not resolve: accepted when not strict (checked again at connect)
    assert rules.resolve("no-such-host.invalid", 443, strict=False) == []
    with pytest.raises(Exception, match="cannot resolve"):
        rules.resolve("no-such-host.invalid", 443)
    with pytest.raises(EdgeRefused):
        rules.resolve("bad host/name", 443)


def test_split_url() -> None:
    e = split_url("HTTPS://Files.Example.com.:8443/x?y#z", {"https"})
    assert (e.scheme, e.host, e.port) == ("https", "files.example.com", 8443)
    for url in ("ftp://x/y", "https:///nohost", "https://x:99999/", "/local/path"):
        with pytest.raises(EdgeRefused):
            split_url(url, {"https"})


@pytest.fixture
def roots(tmp_path: Path) -> tuple[LocalRoots, Path]:
    data = tmp_path / "data"
    settings = make_settings(data, files_roots=[str(tmp_path / "exports" / "{tenant_id}")])
    tid = uuid.uuid4()
    (tmp_path / "exports" / str(tid)).mkdir(parents=True)
    return edge_policy(settings, tid).local, tmp_path


def test_local_roots_carve_out_the_data_dir(roots: tuple[LocalRoots, Path]) -> None:
    local, base = roots
    tid = local.upload_area.name
    assert local.check("crm") == local.upload_area / "crm"  # relative: the upload area
    local.check(str(base / "exports" / tid / "a.csv"))
    for path in (
        str(base / "data"),
        str(base / "data" / "landing"),
        str(base / "data" / "uploads" / str(uuid.uuid4())),
        "../other",
        str(base / "exports" / "other-tenant"),
        str(base / "exports" / tid / ".." / "x"),
        "/etc/passwd",
    ):
        with pytest.raises(EdgeRefused) as err:
            local.check(path)
        assert str(base) not in str(err.value)


def test_open_checks_the_file_actually_opened(roots: tuple[LocalRoots, Path]) -> None:
    local, base = roots
    local.upload_area.mkdir(parents=True)
    inside = local.upload_area / "a.csv"
    inside.write_text("ok")
    with local.open(str(inside)) as f:
        assert f.read() == b"ok"
    secret = base / "data" / "jwt_secret"
    secret.write_text("s3cr3t")
    inside.unlink()
    os.symlink(secret, inside)  # swapped in after any listing
    with pytest.raises(EdgeRefused):
        local.open(str(inside))
    fifo = local.upload_area / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(EdgeRefused):  # refused at once, no blocking open
        local.open(str(fifo))


def test_settings_refuse_roots_inside_the_data_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inside the data dir"):
        make_settings(tmp_path / "d", files_roots=[str(tmp_path / "d" / "landing")])
    with pytest.raises(ValueError, match="absolute"):
        make_settings(tmp_path / "d", files_roots=["relative/dir"])
    assert (
        make_settings(tmp_path / "d", environment="development").blocks_private_databases is False
    )
    assert make_settings(tmp_path / "d", connector_block_private=True).blocks_private_databases

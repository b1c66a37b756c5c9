"""Hostile --output paths for every command (issue 17): exit 2 in one line naming the path and the
reason, no traceback, and nothing half-written left in the target folder.

Every command writes through validator.atomic_write: a temporary file in the target's folder,
fsync, os.replace; removed on failure. A symbolic link is written through (the file it points to
is created or replaced, the link stays); a device such as /dev/full is written directly."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from validator.atomic_write import OutputError, write_output
from validator.cli import run
from validator.cli.embed import main as embed_main
from validator.cli.profile import main_profile, main_suggest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data" / "pretrain_good.csv"
EMBED_REFERENCE = ROOT / "examples" / "data" / "embedder_reference.csv"


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("prof") / "ref.yaml"
    assert main_profile([str(DATA), "--output", str(path)]) == 0
    return path


def command(cli, output, profile_file):
    """(callable, argv) writing ``output`` with ``cli``."""
    if cli == "validate":
        return run, ["--rules", str(ROOT / "rules" / "pretrain.yaml"), str(DATA), "-q", "-f", "json", "--output", output]
    if cli == "validate-profile":
        return main_profile, [str(DATA), "--output", output]
    if cli == "validate-suggest":
        return main_suggest, [str(profile_file), "--output", output]
    return embed_main, ["fit", str(EMBED_REFERENCE), "--column", "text", "--buckets", "1024", "--components", "2", "--force", "--output", output]


CLIS = ["validate", "validate-profile", "validate-suggest", "validate-embed"]


def hostile(folder: Path, kind: str) -> str:
    """A path of the given kind inside ``folder`` (ending .npz: validate-embed asks for it)."""
    if kind == "dev-full":  # a link to the device: the .npz name validate-embed asks for, the device's ENOSPC
        (folder / "full.npz").symlink_to("/dev/full")
        return str(folder / "full.npz")
    if kind == "dangling-link-missing-folder":
        (folder / "dangling.npz").symlink_to(folder / "nowhere" / "x.npz")
        return str(folder / "dangling.npz")
    if kind == "link-loop":
        (folder / "loop.npz").symlink_to(folder / "loop.npz")
        return str(folder / "loop.npz")
    if kind == "below-a-link-loop":
        (folder / "loop").symlink_to(folder / "loop")
        return str(folder / "loop" / "x.npz")
    if kind == "name-too-long":
        return str(folder / ("n" * (os.pathconf(folder, "PC_NAME_MAX") + 1) + ".npz"))
    if kind == "directory":
        (folder / "sub.npz").mkdir()
        return str(folder / "sub.npz")
    if kind == "missing-folder":
        return str(folder / "nope" / "x.npz")
    if kind == "below-a-file":
        (folder / "file").write_text("x")
        return str(folder / "file" / "x.npz")
    return ""


REASONS = {
    "dev-full": "no space left on the device",
    "dangling-link-missing-folder": "whose folder does not exist",
    "link-loop": "a loop of symbolic links",
    "below-a-link-loop": "a loop of symbolic links",
    "name-too-long": "longer than the file system allows",
    "directory": "is a directory",
    "missing-folder": "does not exist",
    "below-a-file": "Not a directory",
    "empty": "",
}


@pytest.mark.parametrize("kind", list(REASONS))
@pytest.mark.parametrize("cli", CLIS)
def test_a_hostile_output_path_is_exit_2_in_one_line_and_leaves_nothing(cli, kind, profile_file, tmp_path, capsys):
    path = hostile(tmp_path, kind)
    before = sorted(os.listdir(tmp_path))
    fn, argv = command(cli, path, profile_file)
    code = fn(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    if kind == "empty" and cli == "validate-embed":
        assert "name it FILE.npz" in err  # its own check of the name comes first
    else:
        assert f"cannot write --output {path}" in err and REASONS[kind] in err, err
    assert sorted(os.listdir(tmp_path)) == before  # no temporary or partial file left


@pytest.mark.parametrize("cli", CLIS)
def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(cli, profile_file, tmp_path, capsys, monkeypatch):
    target = tmp_path / "out.npz"
    target.write_bytes(b"old content")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("validator.atomic_write.os.fsync", full)
    fn, argv = command(cli, str(target), profile_file)
    assert fn(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(f": cannot write --output {target}: no space left on the device"), err
    assert target.read_bytes() == b"old content" and os.listdir(tmp_path) == ["out.npz"]


@pytest.mark.parametrize("cli", CLIS)
def test_a_dangling_link_is_written_through_and_stays_a_link(cli, profile_file, tmp_path, capsys):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.npz"
    link.symlink_to(tmp_path / "real" / "made.npz")
    fn, argv = command(cli, str(link), profile_file)
    assert fn(argv) == 0, capsys.readouterr().err
    assert link.is_symlink() and (tmp_path / "real" / "made.npz").stat().st_size > 0
    assert sorted(os.listdir(tmp_path)) == ["link.npz", "real"] and os.listdir(tmp_path / "real") == ["made.npz"]


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask_mode(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("x")
    old.chmod(0o640)
    write_output(old, "new")
    assert old.read_text() == "new" and old.stat().st_mode & 0o777 == 0o640
    umask = os.umask(0o022)
    try:
        write_output(tmp_path / "new.txt", "n")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644  # 0666 & ~022, as open() would give


def test_a_device_is_written_directly(tmp_path):
    write_output("/dev/null", "discarded")  # not replaced by a regular file
    assert Path("/dev/null").is_char_device()
    with pytest.raises(OutputError, match=r"^/dev/full: no space left on the device$"):
        write_output("/dev/full", "x" * 100_000)

"""Where an export may go, and how it replaces an earlier one without deleting anything else.

An export folder carries a marker, `.clio-sync-export.json`, listing the files written in
it. Only a folder with that marker, holding nothing but what the marker lists, is ever
replaced; a new folder, or an empty one, is taken as it is. Everything else is refused:
a file, a folder of the user's, the warehouse and what lies beside it (its write-ahead
log, lock, inbox and dlt's folder), and any folder that holds them.

The new export is written in a fresh folder beside the target (`tempfile.mkdtemp`, so its
name never matches anything of the user's), then swapped in with one atomic exchange of
names where the system has one (Linux `renameat2`), else two renames; the retired export
is then emptied of the files its marker lists, and removed if nothing else is in it.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pipelines import __version__, warehouse
from pipelines.errors import ExportError
from pipelines.private_files import PRIVATE_FILE, first_file_above, make_private_dirs

MARKER = ".clio-sync-export.json"
MARKER_VERSION = 1

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """A checked export folder: `files` are those of the earlier export it holds (None when
    the folder is new or empty)."""

    path: Path
    files: tuple[str, ...] | None


def check_target(out: Path, db: Path) -> Target:
    """`out` (absolute, symlinks resolved) as a place for an export of warehouse `db`.

    Raises:
        ExportError: `out` belongs to the warehouse, holds it, is a file, or is a folder
            holding anything an earlier export did not write.
    """
    _refuse_the_warehouse_s(out, db)
    blocker = first_file_above(out)
    if blocker is not None:
        raise ExportError(f"--out {out} cannot be a folder: {blocker} is a file, not a folder. "
                          "Choose an empty or new folder for the export.")
    if not out.exists():
        return Target(out, None)
    if not out.is_dir():
        raise ExportError(f"--out {out} is a file, not a folder, and clio-sync never replaces "
                          "a file it did not write. Choose an empty or new folder for the export.")
    if not any(out.iterdir()):
        return Target(out, None)
    return Target(out, _earlier_export_files(out))


def _refuse_the_warehouse_s(out: Path, db: Path) -> None:
    for path, what in warehouse.own_paths(db).items():
        own = path.resolve()
        if out == own:
            raise ExportError(f"--out {out} is {what}, which an export would replace. Choose a "
                              f"folder of its own, for example {db.parent / 'export'}.")
        if own.is_relative_to(out):
            raise ExportError(
                f"--out {out} holds the warehouse {db}: an export there would replace it and "
                "what is kept beside it (the webhook inbox, dlt's folder). Choose a folder of "
                f"its own, for example {db.parent / 'export'}."
            )
    dlt_folder = (db.parent / ".dlt").resolve()
    if out.is_relative_to(dlt_folder):
        raise ExportError(f"--out {out} is inside dlt's folder of the warehouse ({dlt_folder}), "
                          f"which dlt manages. Choose a folder of its own, for example "
                          f"{db.parent / 'export'}.")


def _earlier_export_files(out: Path) -> tuple[str, ...]:
    """The files an earlier export in `out` wrote, if `out` holds nothing else."""
    files = read_marker(out)
    if files is None:
        raise ExportError(
            f"--out {out} is a folder that is not empty and not an earlier export (it has no "
            f"readable {MARKER}), so replacing it could delete files that are not clio-sync's. "
            "Choose an empty or new folder; an export folder is then replaced whole by the "
            "next export to it."
        )
    foreign = _foreign_entries(out, files)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ExportError(
            f"--out {out} is an earlier export, but it holds {len(foreign)} entries not written "
            f"by clio-sync ({shown}), which replacing it would delete. Move them out of it, or "
            "choose another folder."
        )
    return files


def read_marker(folder: Path) -> tuple[str, ...] | None:
    """The files listed by the marker of `folder`, or None without a valid marker."""
    try:
        marker = json.loads((folder / MARKER).read_text())
        files = tuple(str(name) for name in marker["files"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not all(_is_plain_relative(name) for name in files):
        return None
    return files


def _is_plain_relative(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and name != MARKER


def _foreign_entries(out: Path, files: tuple[str, ...]) -> list[str]:
    """What in `out` is neither a listed file, the marker, nor a folder holding them."""
    expected_files = {*files, MARKER}
    expected_dirs = {str(parent) for name in files for parent in PurePosixPath(name).parents}
    foreign = []
    for folder, dirs, names in os.walk(out):
        for name in sorted([*dirs, *names]):
            path = Path(folder, name)
            relative = path.relative_to(out).as_posix()
            if path.is_symlink():
                foreign.append(relative)
            elif path.is_dir():
                if relative not in expected_dirs:
                    foreign.append(relative + "/")
                    dirs.remove(name)
            elif relative not in expected_files:
                foreign.append(relative)
    return foreign


def make_staging(target: Target) -> Path:
    """A new, private folder beside `target` to write the export in."""
    out = target.path
    try:
        make_private_dirs(out.parent)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise ExportError(
            f"--out {out} cannot be written: making a folder in {out.parent} failed "
            f"({exc.strerror or exc}). The export is written beside its folder and then swapped "
            "in, so that folder must be writable by this user: choose --out in a folder you "
            "may write."
        ) from None


def write_marker(staging: Path, source: str | Path, files: list[str]) -> None:
    """Mark `staging` as a clio-sync export of `source` (the warehouse file, or a
    destination's name: never its credentials) holding `files`."""
    marker = {
        "version": MARKER_VERSION,
        "clio_sync": __version__,
        "warehouse": str(source),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": sorted(files),
    }
    fd = os.open(staging / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w") as file:
        json.dump(marker, file, indent=2)
        file.write("\n")


def swap_in(staging: Path, target: Target) -> None:
    """Put `staging` at `target.path`, then retire the earlier export, if any, file by file.
    On failure `staging` is removed and `target.path` is as it was."""
    out = target.path
    try:
        if target.files is None:
            os.rename(staging, out)  # replaces an empty folder, fails on anything else
            return
        if _exchange(staging, out):
            retired = staging
        else:
            retired = _rename_aside(out)
            try:
                os.rename(staging, out)
            except OSError:
                os.rename(retired, out)
                raise
    except OSError as exc:
        discard(staging)
        raise ExportError(f"--out {out} could not be replaced ({exc.strerror or exc}); it is as "
                          "it was. Check that nothing else is writing there, and export again.") \
            from None
    retire(retired, target.files)


def _rename_aside(out: Path) -> Path:
    """Move `out` to a new unique name beside it (onto an empty folder made for it)."""
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    try:
        os.rename(out, aside)
    except OSError:
        aside.rmdir()
        raise
    return aside


def retire(folder: Path, files: tuple[str, ...]) -> None:
    """Delete the files an export wrote in `folder`, then the folders if nothing is left."""
    for name in (*files, MARKER):
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError:  # no longer the file it wrote: leave it
            continue
    for parent, dirs, _ in os.walk(folder, topdown=False):
        for name in dirs:
            _remove_if_empty(Path(parent, name))
    if not _remove_if_empty(folder):
        log.warning("Kept %s: the earlier export held files clio-sync did not write (put "
                    "there while the new export was written). Look at them, then delete it.",
                    folder)


def discard(staging: Path) -> None:
    """Remove a staging folder of a failed export (this export made all of it)."""
    shutil.rmtree(staging, ignore_errors=True)


def _remove_if_empty(folder: Path) -> bool:
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap the names of two folders atomically; False where the system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))

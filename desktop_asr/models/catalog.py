"""Models known by name: the bundled default and the CTranslate2 Whisper conversions online."""

from __future__ import annotations

from dataclasses import dataclass

BUNDLED_NAME = "tiny.en"


@dataclass(frozen=True)
class CatalogEntry:
    """A downloadable model: its name, the hub repository holding it and a rough size."""

    name: str
    repo: str
    size_mb: int
    languages: str
    description: str = ""


# Hub repositories of the CTranslate2 conversions that faster-whisper itself uses by name.
CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("tiny.en", "Systran/faster-whisper-tiny.en", 75, "en", "fastest, English"),
    CatalogEntry("tiny", "Systran/faster-whisper-tiny", 75, "multilingual"),
    CatalogEntry("base.en", "Systran/faster-whisper-base.en", 145, "en"),
    CatalogEntry("base", "Systran/faster-whisper-base", 145, "multilingual"),
    CatalogEntry("small.en", "Systran/faster-whisper-small.en", 484, "en"),
    CatalogEntry("small", "Systran/faster-whisper-small", 484, "multilingual"),
    CatalogEntry("medium.en", "Systran/faster-whisper-medium.en", 1530, "en"),
    CatalogEntry("medium", "Systran/faster-whisper-medium", 1530, "multilingual"),
    CatalogEntry("large-v2", "Systran/faster-whisper-large-v2", 3090, "multilingual"),
    CatalogEntry("large-v3", "Systran/faster-whisper-large-v3", 3090, "multilingual",
                 "most accurate, needs a GPU for live use"),
    CatalogEntry("large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", 1620,
                 "multilingual", "near large-v3 accuracy, much faster"),
    CatalogEntry("distil-small.en", "Systran/faster-distil-whisper-small.en", 336, "en"),
    CatalogEntry("distil-medium.en", "Systran/faster-distil-whisper-medium.en", 789, "en"),
    CatalogEntry("distil-large-v3", "Systran/faster-distil-whisper-large-v3", 1510,
                 "multilingual"),
)

# Files of a CTranslate2 Whisper folder: the first three are required.
REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
OPTIONAL_FILES = ("vocabulary.txt", "vocabulary.json", "preprocessor_config.json")


def catalog_entry(name: str) -> CatalogEntry | None:
    """The catalogue entry for ``name``, or None."""
    for entry in CATALOG:
        if entry.name == name:
            return entry
    return None

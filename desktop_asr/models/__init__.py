"""Model manager: bundled, installed and downloadable models."""

from desktop_asr.models.catalog import BUNDLED_NAME, CATALOG, CatalogEntry
from desktop_asr.models.manager import (ModelEntry, ModelManager, ResolvedModel,
                                        bundled_model_path, missing_model_files)

__all__ = ["BUNDLED_NAME", "CATALOG", "CatalogEntry", "ModelEntry", "ModelManager",
           "ResolvedModel", "bundled_model_path", "missing_model_files"]

"""Survey data: typed records, loaders, validation, country codes and splits."""
from .loaders import load_dataset, load_file
from .manifest import DataRootNotFound, data_root, dataset_spec, dataset_specs
from .schema import DataError, Dataset, LoadReport, SurveyItem
from .splits import leave_countries_out_folds, select, split_names
from .user_import import load_user_file
from . import rebuild  # noqa: F401  (registers the rebuilt data sets)

__all__ = [
    "DataError", "DataRootNotFound", "Dataset", "LoadReport", "SurveyItem",
    "data_root", "dataset_spec", "dataset_specs", "leave_countries_out_folds", "load_dataset",
    "load_file", "load_user_file", "select", "split_names",
]

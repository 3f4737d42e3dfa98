""" Contains all the data models used in inputs/outputs """

from .alias_event_public import AliasEventPublic
from .alias_events_public import AliasEventsPublic
from .alias_public import AliasPublic
from .alias_update import AliasUpdate
from .auto import Auto
from .baseline_point import BaselinePoint
from .batch_job_create import BatchJobCreate
from .batch_job_public import BatchJobPublic
from .batch_job_public_attempt_errors_item import BatchJobPublicAttemptErrorsItem
from .batch_jobs_public import BatchJobsPublic
from .batch_operation import BatchOperation
from .batch_progress import BatchProgress
from .batch_progress_runtime_type_0 import BatchProgressRuntimeType0
from .batch_stat import BatchStat
from .check import Check
from .choice_dimension import ChoiceDimension
from .conv_architecture import ConvArchitecture
from .conv_architecture_activation import ConvArchitectureActivation
from .conv_architecture_output_activation import ConvArchitectureOutputActivation
from .conv_vae_architecture import ConvVaeArchitecture
from .conv_vae_architecture_activation import ConvVaeArchitectureActivation
from .conv_vae_architecture_output_activation import ConvVaeArchitectureOutputActivation
from .create_dataset_form import CreateDatasetForm
from .data_profile import DataProfile
from .dataset_public import DatasetPublic
from .dataset_view import DatasetView
from .datasets_public import DatasetsPublic
from .decode_json_decode_request import DecodeJsonDecodeRequest
from .decode_response import DecodeResponse
from .denoising import Denoising
from .dense_architecture import DenseArchitecture
from .dense_architecture_activation import DenseArchitectureActivation
from .dense_architecture_output_activation import DenseArchitectureOutputActivation
from .download_dataset_format import DownloadDatasetFormat
from .duration_stat import DurationStat
from .encode_json_encode_request import EncodeJsonEncodeRequest
from .encode_response import EncodeResponse
from .export_model_version_format import ExportModelVersionFormat
from .export_model_version_part import ExportModelVersionPart
from .feature_stats import FeatureStats
from .field_error import FieldError
from .float_dimension import FloatDimension
from .generate_generate_request import GenerateGenerateRequest
from .generate_response import GenerateResponse
from .generate_response_method import GenerateResponseMethod
from .import_model_version_form import ImportModelVersionForm
from .infer_output import InferOutput
from .infer_output_datatype import InferOutputDatatype
from .infer_output_parameters_type_0 import InferOutputParametersType0
from .infer_response import InferResponse
from .inference_stats import InferenceStats
from .int_dimension import IntDimension
from .interpolate_interpolate_request import InterpolateInterpolateRequest
from .interpolate_response import InterpolateResponse
from .job_create import JobCreate
from .job_create_preprocessing_type_0 import JobCreatePreprocessingType0
from .job_history import JobHistory
from .job_history_epochs_item import JobHistoryEpochsItem
from .job_progress import JobProgress
from .job_public import JobPublic
from .job_public_attempt_errors_item import JobPublicAttemptErrorsItem
from .job_status import JobStatus
from .jobs_public import JobsPublic
from .linear_architecture import LinearArchitecture
from .list_batch_jobs_order_by import ListBatchJobsOrderBy
from .list_datasets_order_by import ListDatasetsOrderBy
from .list_jobs_order_by import ListJobsOrderBy
from .list_model_alias_history_order_by import ListModelAliasHistoryOrderBy
from .list_model_versions_order_by import ListModelVersionsOrderBy
from .list_models_order_by import ListModelsOrderBy
from .list_sweeps_order_by import ListSweepsOrderBy
from .model_metadata import ModelMetadata
from .model_public import ModelPublic
from .model_public_aliases import ModelPublicAliases
from .model_public_tags import ModelPublicTags
from .model_spec import ModelSpec
from .model_spec_preprocessing import ModelSpecPreprocessing
from .model_stat import ModelStat
from .model_update import ModelUpdate
from .model_update_tags_type_0 import ModelUpdateTagsType0
from .model_version_public import ModelVersionPublic
from .model_version_public_kind import ModelVersionPublicKind
from .model_version_public_metrics import ModelVersionPublicMetrics
from .model_version_public_status import ModelVersionPublicStatus
from .model_versions_public import ModelVersionsPublic
from .models_public import ModelsPublic
from .oip_error import OipError
from .oip_error_body import OipErrorBody
from .oip_infer_json_infer_request import OipInferJsonInferRequest
from .oip_infer_json_infer_request_infer_input import OipInferJsonInferRequestInferInput
from .oip_infer_json_infer_request_infer_input_parameters_type_0 import OipInferJsonInferRequestInferInputParametersType0
from .oip_infer_json_infer_request_parameters_type_0 import OipInferJsonInferRequestParametersType0
from .oip_infer_json_infer_request_requested_output import OipInferJsonInferRequestRequestedOutput
from .oip_infer_json_infer_request_requested_output_parameters_type_0 import OipInferJsonInferRequestRequestedOutputParametersType0
from .oip_infer_version_json_infer_request import OipInferVersionJsonInferRequest
from .oip_infer_version_json_infer_request_infer_input import OipInferVersionJsonInferRequestInferInput
from .oip_infer_version_json_infer_request_infer_input_parameters_type_0 import OipInferVersionJsonInferRequestInferInputParametersType0
from .oip_infer_version_json_infer_request_parameters_type_0 import OipInferVersionJsonInferRequestParametersType0
from .oip_infer_version_json_infer_request_requested_output import OipInferVersionJsonInferRequestRequestedOutput
from .oip_infer_version_json_infer_request_requested_output_parameters_type_0 import OipInferVersionJsonInferRequestRequestedOutputParametersType0
from .oip_register_system_shared_memory_system_shared_memory_register import OipRegisterSystemSharedMemorySystemSharedMemoryRegister
from .oip_repository_index_repository_index_request import OipRepositoryIndexRepositoryIndexRequest
from .oip_repository_model_load_repository_model_request import OipRepositoryModelLoadRepositoryModelRequest
from .oip_repository_model_load_repository_model_request_parameters import OipRepositoryModelLoadRepositoryModelRequestParameters
from .oip_repository_model_unload_repository_model_request import OipRepositoryModelUnloadRepositoryModelRequest
from .oip_repository_model_unload_repository_model_request_parameters import OipRepositoryModelUnloadRepositoryModelRequestParameters
from .problem import Problem
from .quality_warning import QualityWarning
from .read_health_response_read_health import ReadHealthResponseReadHealth
from .read_job_history_order_by import ReadJobHistoryOrderBy
from .readiness import Readiness
from .readiness_checks import ReadinessChecks
from .readiness_status import ReadinessStatus
from .reconstruct_json_reconstruct_request import ReconstructJsonReconstructRequest
from .reconstruct_response import ReconstructResponse
from .regularization import Regularization
from .repository_index_entry import RepositoryIndexEntry
from .repository_index_entry_state import RepositoryIndexEntryState
from .score_json_score_request import ScoreJsonScoreRequest
from .score_response import ScoreResponse
from .search import Search
from .search_space import SearchSpace
from .server_metadata import ServerMetadata
from .sparsity import Sparsity
from .sparsity_kind import SparsityKind
from .statistics_response import StatisticsResponse
from .sweep_base import SweepBase
from .sweep_base_architecture import SweepBaseArchitecture
from .sweep_base_preprocessing import SweepBasePreprocessing
from .sweep_base_regularization import SweepBaseRegularization
from .sweep_base_training import SweepBaseTraining
from .sweep_create import SweepCreate
from .sweep_create_grid_type_0 import SweepCreateGridType0
from .sweep_create_metric import SweepCreateMetric
from .sweep_public import SweepPublic
from .sweep_public_metric import SweepPublicMetric
from .sweep_public_request import SweepPublicRequest
from .sweep_public_search import SweepPublicSearch
from .sweep_status import SweepStatus
from .sweep_summary import SweepSummary
from .sweep_summary_metric import SweepSummaryMetric
from .sweep_summary_search import SweepSummarySearch
from .sweeps_public import SweepsPublic
from .system_shared_memory_status import SystemSharedMemoryStatus
from .tensor_metadata import TensorMetadata
from .tensor_metadata_datatype import TensorMetadataDatatype
from .training import Training
from .training_device import TrainingDevice
from .training_loss import TrainingLoss
from .training_lr_schedule import TrainingLrSchedule
from .training_optimizer import TrainingOptimizer
from .training_strategy import TrainingStrategy
from .trial_public import TrialPublic
from .trial_public_metrics import TrialPublicMetrics
from .trial_public_params import TrialPublicParams
from .trial_public_status_type_1 import TrialPublicStatusType1
from .vae_architecture import VaeArchitecture
from .vae_architecture_activation import VaeArchitectureActivation
from .vae_architecture_output_activation import VaeArchitectureOutputActivation
from .version_plots import VersionPlots
from .version_plots_plots import VersionPlotsPlots
from .worker_info import WorkerInfo

__all__ = (
    "AliasEventPublic",
    "AliasEventsPublic",
    "AliasPublic",
    "AliasUpdate",
    "Auto",
    "BaselinePoint",
    "BatchJobCreate",
    "BatchJobPublic",
    "BatchJobPublicAttemptErrorsItem",
    "BatchJobsPublic",
    "BatchOperation",
    "BatchProgress",
    "BatchProgressRuntimeType0",
    "BatchStat",
    "Check",
    "ChoiceDimension",
    "ConvArchitecture",
    "ConvArchitectureActivation",
    "ConvArchitectureOutputActivation",
    "ConvVaeArchitecture",
    "ConvVaeArchitectureActivation",
    "ConvVaeArchitectureOutputActivation",
    "CreateDatasetForm",
    "DataProfile",
    "DatasetPublic",
    "DatasetsPublic",
    "DatasetView",
    "DecodeJsonDecodeRequest",
    "DecodeResponse",
    "Denoising",
    "DenseArchitecture",
    "DenseArchitectureActivation",
    "DenseArchitectureOutputActivation",
    "DownloadDatasetFormat",
    "DurationStat",
    "EncodeJsonEncodeRequest",
    "EncodeResponse",
    "ExportModelVersionFormat",
    "ExportModelVersionPart",
    "FeatureStats",
    "FieldError",
    "FloatDimension",
    "GenerateGenerateRequest",
    "GenerateResponse",
    "GenerateResponseMethod",
    "ImportModelVersionForm",
    "InferenceStats",
    "InferOutput",
    "InferOutputDatatype",
    "InferOutputParametersType0",
    "InferResponse",
    "IntDimension",
    "InterpolateInterpolateRequest",
    "InterpolateResponse",
    "JobCreate",
    "JobCreatePreprocessingType0",
    "JobHistory",
    "JobHistoryEpochsItem",
    "JobProgress",
    "JobPublic",
    "JobPublicAttemptErrorsItem",
    "JobsPublic",
    "JobStatus",
    "LinearArchitecture",
    "ListBatchJobsOrderBy",
    "ListDatasetsOrderBy",
    "ListJobsOrderBy",
    "ListModelAliasHistoryOrderBy",
    "ListModelsOrderBy",
    "ListModelVersionsOrderBy",
    "ListSweepsOrderBy",
    "ModelMetadata",
    "ModelPublic",
    "ModelPublicAliases",
    "ModelPublicTags",
    "ModelSpec",
    "ModelSpecPreprocessing",
    "ModelsPublic",
    "ModelStat",
    "ModelUpdate",
    "ModelUpdateTagsType0",
    "ModelVersionPublic",
    "ModelVersionPublicKind",
    "ModelVersionPublicMetrics",
    "ModelVersionPublicStatus",
    "ModelVersionsPublic",
    "OipError",
    "OipErrorBody",
    "OipInferJsonInferRequest",
    "OipInferJsonInferRequestInferInput",
    "OipInferJsonInferRequestInferInputParametersType0",
    "OipInferJsonInferRequestParametersType0",
    "OipInferJsonInferRequestRequestedOutput",
    "OipInferJsonInferRequestRequestedOutputParametersType0",
    "OipInferVersionJsonInferRequest",
    "OipInferVersionJsonInferRequestInferInput",
    "OipInferVersionJsonInferRequestInferInputParametersType0",
    "OipInferVersionJsonInferRequestParametersType0",
    "OipInferVersionJsonInferRequestRequestedOutput",
    "OipInferVersionJsonInferRequestRequestedOutputParametersType0",
    "OipRegisterSystemSharedMemorySystemSharedMemoryRegister",
    "OipRepositoryIndexRepositoryIndexRequest",
    "OipRepositoryModelLoadRepositoryModelRequest",
    "OipRepositoryModelLoadRepositoryModelRequestParameters",
    "OipRepositoryModelUnloadRepositoryModelRequest",
    "OipRepositoryModelUnloadRepositoryModelRequestParameters",
    "Problem",
    "QualityWarning",
    "ReadHealthResponseReadHealth",
    "Readiness",
    "ReadinessChecks",
    "ReadinessStatus",
    "ReadJobHistoryOrderBy",
    "ReconstructJsonReconstructRequest",
    "ReconstructResponse",
    "Regularization",
    "RepositoryIndexEntry",
    "RepositoryIndexEntryState",
    "ScoreJsonScoreRequest",
    "ScoreResponse",
    "Search",
    "SearchSpace",
    "ServerMetadata",
    "Sparsity",
    "SparsityKind",
    "StatisticsResponse",
    "SweepBase",
    "SweepBaseArchitecture",
    "SweepBasePreprocessing",
    "SweepBaseRegularization",
    "SweepBaseTraining",
    "SweepCreate",
    "SweepCreateGridType0",
    "SweepCreateMetric",
    "SweepPublic",
    "SweepPublicMetric",
    "SweepPublicRequest",
    "SweepPublicSearch",
    "SweepsPublic",
    "SweepStatus",
    "SweepSummary",
    "SweepSummaryMetric",
    "SweepSummarySearch",
    "SystemSharedMemoryStatus",
    "TensorMetadata",
    "TensorMetadataDatatype",
    "Training",
    "TrainingDevice",
    "TrainingLoss",
    "TrainingLrSchedule",
    "TrainingOptimizer",
    "TrainingStrategy",
    "TrialPublic",
    "TrialPublicMetrics",
    "TrialPublicParams",
    "TrialPublicStatusType1",
    "VaeArchitecture",
    "VaeArchitectureActivation",
    "VaeArchitectureOutputActivation",
    "VersionPlots",
    "VersionPlotsPlots",
    "WorkerInfo",
)

# Inputs of the GPU AMI build. Values per fleet live in vars/*.pkrvars.hcl.

variable "region" {
  type        = string
  description = "AWS region to build in; the AMI and its SSM parameter live there."
  default     = "us-east-1"
}

variable "instance_type" {
  type        = string
  description = "Build instance type; a GPU type so the self-check can exercise the driver and torch."
  default     = "g4dn.xlarge"
}

variable "app" {
  type        = string
  description = "Project prefix (<app> of system-facts section 1)."
  default     = "bp"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.app))
    error_message = "The app prefix must be lower-case letters, digits and dashes."
  }
}

variable "stage" {
  type        = string
  description = "staging or production; part of the SSM parameter name."
  validation {
    condition     = contains(["staging", "production"], var.stage)
    error_message = "The stage must be staging or production."
  }
}

variable "fleet_slug" {
  type        = string
  description = "Fleet the AMI is for, e.g. gpu-default; part of the SSM parameter name."
  default     = "gpu-default"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.fleet_slug))
    error_message = "The fleet slug must be lower-case letters, digits and dashes."
  }
}

variable "models_bucket" {
  type        = string
  description = "Models bucket (assets/ and bundles/); read at build time only when bundle_id is set."
}

variable "models_prefix" {
  type        = string
  description = "Key prefix of the bundle manifests (the worker reads bundles/<id>/manifest.json); recorded in the ModelsSource tag."
  default     = "bundles/"
  validation {
    condition     = can(regex("^([A-Za-z0-9._-]+/)*$", var.models_prefix))
    error_message = "The models prefix must be empty or end with a slash, e.g. bundles/."
  }
}

variable "bundle_id" {
  type        = string
  description = "Model bundle to bake: must be the fleet's active bundle at build time (the build fails otherwise); empty bakes none."
  default     = ""
  validation {
    condition     = can(regex("^[A-Za-z0-9._-]*$", var.bundle_id))
    error_message = "The bundle id may only hold letters, digits, dot, underscore and dash."
  }
}

variable "instance_profile" {
  type        = string
  description = "IAM instance profile of the build instance; must read the models bucket when bundle_id is set."
}

variable "comfyui_repo" {
  type        = string
  description = "ComfyUI git repository."
  default     = "https://github.com/comfyanonymous/ComfyUI.git"
}

variable "comfyui_ref" {
  type        = string
  description = "Pinned ComfyUI version: a full 40-hex commit sha or a release tag vX.Y.Z (never a branch)."
  validation {
    condition     = can(regex("^([0-9a-f]{40}|v[0-9]+\\.[0-9]+\\.[0-9]+)$", var.comfyui_ref))
    error_message = "The comfyui_ref must be a full 40-hex commit sha or a vX.Y.Z tag, not a branch or short sha."
  }
}

variable "torch_index_url" {
  type        = string
  description = "pip index of the CUDA build of torch, matching cuda_version."
  default     = "https://download.pytorch.org/whl/cu121"
}

variable "nvidia_driver_branch" {
  type        = string
  description = "NVIDIA datacenter driver branch (Ubuntu nvidia-headless-<branch>-server)."
  default     = "535"
  validation {
    condition     = can(regex("^[0-9]{3}$", var.nvidia_driver_branch))
    error_message = "The driver branch is three digits, e.g. 535."
  }
}

variable "cuda_version" {
  type        = string
  description = "CUDA toolkit version major.minor (NVIDIA apt package cuda-toolkit-<major>-<minor>)."
  default     = "12.2"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.cuda_version))
    error_message = "The CUDA version is major.minor, e.g. 12.2."
  }
}

variable "worker_version" {
  type        = string
  description = "Version of the worker binary in dist/ (git describe); tagged on the AMI."
  validation {
    condition     = var.worker_version != ""
    error_message = "The worker_version must be set (make ami-build passes git describe)."
  }
}

variable "cloudwatch_agent_version" {
  type        = string
  description = "Amazon CloudWatch agent build to install (S3 folder ubuntu/amd64/<version>/), e.g. 1.300064.1b1344; never latest."
  default     = "1.300064.1b1344"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+b[0-9]+$", var.cloudwatch_agent_version))
    error_message = "The cloudwatch_agent_version is a pinned build like 1.300064.1b1344, not latest."
  }
}

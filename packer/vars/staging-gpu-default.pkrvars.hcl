# Fleet gpu-default in staging. Replace the placeholders before `make ami-build`;
# worker_version is passed by make (git describe).
region           = "us-east-1"
instance_type    = "g4dn.xlarge"
app              = "bp"
stage            = "staging"
fleet_slug       = "gpu-default"
models_bucket    = "REPLACE-models-bucket-name"
models_prefix    = "bundles/"
bundle_id        = ""
instance_profile = "bp-staging-ami-build" # created by the data stack
# ComfyUI v0.3.10; pin a reviewed commit or tag, never a branch.
comfyui_ref          = "v0.3.10"
nvidia_driver_branch = "535"
cuda_version         = "12.2"

# GPU AMI for the ComfyUI worker fleets: Ubuntu 22.04, NVIDIA driver and CUDA,
# ComfyUI in its own venv, the Go worker in /opt/worker, systemd units, and the
# CloudWatch agent that ships the units' log files (started by the user data).
# Paths and unit names come from bootcontract via bootcontract.gen.pkr.hcl.

packer {
  required_version = ">= 1.9.0"
  required_plugins {
    amazon = {
      version = ">= 1.3.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}

locals {
  # The SSM parameter the GpuFleet stack reads (system-facts section 1).
  ssm_parameter = "/${var.app}/ami/fleets/${var.stage}/${var.fleet_slug}"

  # The fleet's active model bundle (system-facts section 7), baked when bundle_id is set.
  active_bundle_param = "/${var.app}/${var.stage}/fleets/${var.fleet_slug}/active_bundle"

  ami_timestamp   = formatdate("YYYYMMDD-hhmmss", timestamp())
  worker_artifact = "${path.root}/../dist/worker-linux-amd64"
  staging_dir     = "/tmp/packer-gpu-ami"

  # Official download of the CloudWatch agent and the fingerprint of its
  # signing key (docs: "Verify the signature of the CloudWatch agent package").
  cloudwatch_agent_base_url        = "https://amazoncloudwatch-agent.s3.amazonaws.com"
  cloudwatch_agent_key_fingerprint = "937616F3450B7D806CBD9725D58167303B789C72"

  # sudo keeps the provisioner's variables; scripts need root for apt and /opt.
  sudo_execute = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"

  tags = {
    Project       = var.app
    Stage         = var.stage
    FleetSlug     = var.fleet_slug
    ComfyUIRef    = var.comfyui_ref
    BundleId      = var.bundle_id
    WorkerVersion = var.worker_version
    ModelsSource  = "s3://${var.models_bucket}/${var.models_prefix}"
    BuiltBy       = "packer"
  }
}

source "amazon-ebs" "gpu" {
  region               = var.region
  instance_type        = var.instance_type
  iam_instance_profile = var.instance_profile
  ssh_username         = "ubuntu"
  ami_name             = "${var.app}-gpu-${var.stage}-${var.fleet_slug}-${local.ami_timestamp}"
  ami_description      = "ComfyUI GPU worker ${var.fleet_slug} (${var.stage}), ComfyUI ${var.comfyui_ref}, worker ${var.worker_version}"
  imds_support         = "v2.0"

  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720109477"]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = 100
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tags          = local.tags
  snapshot_tags = local.tags
  run_tags      = local.tags
}

build {
  name    = "gpu-ami"
  sources = ["source.amazon-ebs.gpu"]

  provisioner "shell" {
    inline = ["cloud-init status --wait"]
  }

  provisioner "shell" {
    execute_command = local.sudo_execute
    script          = "${path.root}/scripts/install-nvidia.sh"
    environment_vars = [
      "NVIDIA_DRIVER_BRANCH=${var.nvidia_driver_branch}",
      "CUDA_VERSION=${var.cuda_version}",
    ]
  }

  # Load the freshly built kernel module before anything checks the GPU.
  provisioner "shell" {
    inline            = ["sudo systemctl reboot"]
    expect_disconnect = true
  }

  # After the reboot: /tmp was emptied, so the staging folder is made here.
  provisioner "shell" {
    pause_before = "30s"
    inline       = ["mkdir -p ${local.staging_dir}/units"]
  }

  provisioner "shell" {
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/create-service-user.sh"
    environment_vars = local.boot_env
  }

  provisioner "shell" {
    execute_command = local.sudo_execute
    script          = "${path.root}/scripts/install-comfyui.sh"
    environment_vars = concat(local.boot_env, [
      "COMFYUI_REPO=${var.comfyui_repo}",
      "COMFYUI_REF=${var.comfyui_ref}",
      "TORCH_INDEX_URL=${var.torch_index_url}",
    ])
  }

  provisioner "shell" {
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/set-comfyui-owners.sh"
    environment_vars = local.boot_env
  }

  provisioner "file" {
    source      = local.worker_artifact
    destination = "${local.staging_dir}/worker"
  }

  provisioner "shell" {
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/install-worker.sh"
    environment_vars = concat(local.boot_env, ["WORKER_SRC=${local.staging_dir}/worker"])
  }

  provisioner "file" {
    source      = "${path.root}/units/"
    destination = "${local.staging_dir}/units"
  }

  provisioner "shell" {
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/install-units.sh"
    environment_vars = concat(local.boot_env, ["UNITS_SRC=${local.staging_dir}/units"])
  }

  provisioner "file" {
    source      = "${path.root}/firewall/comfyui-imds-block"
    destination = "${local.staging_dir}/comfyui-imds-block"
  }

  provisioner "shell" {
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/install-imds-block.sh"
    environment_vars = concat(local.boot_env, ["IMDS_BLOCK_SRC=${local.staging_dir}/comfyui-imds-block"])
  }

  provisioner "file" {
    source      = "${path.root}/logrotate/comfyui-worker"
    destination = "${local.staging_dir}/comfyui-worker"
  }

  provisioner "shell" {
    execute_command  = local.sudo_execute
    script           = "${path.root}/scripts/install-logging.sh"
    environment_vars = concat(local.boot_env, ["LOGROTATE_SRC=${local.staging_dir}/comfyui-worker"])
  }

  provisioner "shell" {
    execute_command = local.sudo_execute
    script          = "${path.root}/scripts/install-cloudwatch-agent.sh"
    environment_vars = concat(local.boot_env, [
      "CLOUDWATCH_AGENT_VERSION=${var.cloudwatch_agent_version}",
      "CLOUDWATCH_AGENT_BASE_URL=${local.cloudwatch_agent_base_url}",
      "CLOUDWATCH_AGENT_KEY_FINGERPRINT=${local.cloudwatch_agent_key_fingerprint}",
    ])
  }

  provisioner "shell" {
    execute_command = local.sudo_execute
    script          = "${path.root}/scripts/bake-bundle.sh"
    environment_vars = concat(local.boot_env, [
      "BUNDLE_ID=${var.bundle_id}",
      "MODELS_BUCKET=${var.models_bucket}",
      "AWS_REGION=${var.region}",
      "ACTIVE_BUNDLE_PARAM=${local.active_bundle_param}",
    ])
  }

  provisioner "shell" {
    execute_command = local.sudo_execute
    script          = "${path.root}/scripts/self-check.sh"
    environment_vars = concat(local.boot_env, [
      "EXPECT_NVIDIA_DRIVER_BRANCH=${var.nvidia_driver_branch}",
      "EXPECT_CUDA_VERSION=${var.cuda_version}",
      "EXPECT_COMFYUI_REF=${var.comfyui_ref}",
      "EXPECT_BUNDLE_ID=${var.bundle_id}",
    ])
  }

  provisioner "shell" {
    inline = [
      "rm -rf ${local.staging_dir}",
      "sudo apt-get clean",
    ]
  }

  post-processor "manifest" {
    output     = "${path.root}/manifest.json"
    strip_path = true
    custom_data = {
      ssm_parameter = local.ssm_parameter
      region        = var.region
      fleet_slug    = var.fleet_slug
      stage         = var.stage
    }
  }
}

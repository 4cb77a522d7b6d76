// Package packer holds the GPU AMI build (Packer HCL2 template, provisioning
// scripts and generated systemd units). Its tests, in package packer_test,
// prove the boot path without AWS: template structure, shellcheck, systemd
// unit verification, the install scripts against a temporary root, the
// self-check and the SSM publish step. Run them with `make ami-validate`.
package packer

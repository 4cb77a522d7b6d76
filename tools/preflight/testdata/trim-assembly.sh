#!/usr/bin/env bash
# Rebuilds testdata/cdk.out from a real synthesized assembly: keeps the parts
# the preflight reads (stack environments and dependencies, SSM-typed template
# parameters, launch templates, ECS task definitions and services, ECR
# repositories and the outputs that export them) exactly as CDK emitted them,
# and drops everything else (user data, IAM, networking, tags).
#
#   make synth STAGE=staging
#   tools/preflight/testdata/trim-assembly.sh cdk.out staging tools/preflight/testdata/cdk.out
set -euo pipefail
src=${1:?source cdk.out}
stage=${2:?stage}
dst=${3:?destination}
sub="assembly-$stage"

jq -e --arg sub "$sub" '.artifacts[$sub]' "$src/manifest.json" >/dev/null || {
  echo "$src/manifest.json has no $sub: run make synth STAGE=$stage first" >&2
  exit 1
}
rm -rf "$dst"
mkdir -p "$dst/$sub"

jq --arg sub "$sub" '{version, artifacts: {($sub): .artifacts[$sub]}}' \
  "$src/manifest.json" >"$dst/manifest.json"

jq '{version, artifacts: (.artifacts | with_entries(select(.value.type == "aws:cloudformation:stack"))
  | map_values({type, environment, properties: {templateFile: .properties.templateFile, stackName: .properties.stackName},
                dependencies, displayName}))}' \
  "$src/$sub/manifest.json" >"$dst/$sub/manifest.json"

for file in $(jq -r '.artifacts[].properties.templateFile' "$dst/$sub/manifest.json"); do
  jq '
    def keep: .Type as $t | ["AWS::EC2::LaunchTemplate", "AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::ECR::Repository"] | index($t);
    def trim:
      if .Type == "AWS::EC2::LaunchTemplate" then
        {Type, Properties: {LaunchTemplateName: .Properties.LaunchTemplateName, LaunchTemplateData: {ImageId: .Properties.LaunchTemplateData.ImageId}}}
      elif .Type == "AWS::ECS::TaskDefinition" then
        {Type, Properties: {Family: .Properties.Family, RuntimePlatform: .Properties.RuntimePlatform, ContainerDefinitions: [.Properties.ContainerDefinitions[] | {Name, Image, Essential}]}}
      elif .Type == "AWS::ECS::Service" then
        {Type, Properties: (.Properties | {ServiceName, TaskDefinition} + (if has("DesiredCount") then {DesiredCount} else {} end))}
      else
        {Type, Properties: {RepositoryName: .Properties.RepositoryName, ImageTagMutability: .Properties.ImageTagMutability}}
      end;
    (.Resources | with_entries(select(.value | keep) | .value |= trim)) as $res
    | {Parameters, Resources: $res}
      + ({Outputs: (.Outputs // {} | with_entries(select(.value.Export and ((.value.Value.Ref // .value.Value["Fn::GetAtt"][0]) as $id | $res | has($id)))))}
         | if (.Outputs | length) == 0 then {} else . end)
  ' "$src/$sub/$file" >"$dst/$sub/$file"
done
echo "wrote $dst: $(find "$dst" -name '*.json' | wc -l) files, $(du -sh "$dst" | cut -f1)"

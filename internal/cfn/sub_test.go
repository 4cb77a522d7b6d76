package cfn

import (
	"reflect"
	"testing"
)

// TestSubParts reads both forms the CloudFormation User Guide gives for
// Fn::Sub: "Fn::Sub: String" and "Fn::Sub: [String, {Var1Name: Var1Value, ...}]";
// "${!Literal}" is written out as ${Literal} and names no variable.
func TestSubParts(t *testing.T) {
	tmpl, names, vars := SubParts("arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Role.Arn}")
	if tmpl != "arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Role.Arn}" || vars != nil ||
		!reflect.DeepEqual(names, []string{"AWS::Partition", "Bucket", "Role.Arn"}) {
		t.Errorf("string form: %q %v %v", tmpl, names, vars)
	}
	varMap := map[string]any{"Domain": map[string]any{"Ref": "RootDomain"}}
	tmpl, names, vars = SubParts([]any{"www.${Domain}", varMap})
	if tmpl != "www.${Domain}" || !reflect.DeepEqual(names, []string{"Domain"}) || !reflect.DeepEqual(vars, varMap) {
		t.Errorf("list form: %q %v %v", tmpl, names, vars)
	}
	got := CollectRefs(map[string]any{"Fn::Sub": []any{"www.${Domain}", varMap}})
	if !reflect.DeepEqual(got.IDs, []string{"Domain", "RootDomain"}) && !reflect.DeepEqual(got.IDs, []string{"RootDomain", "Domain"}) {
		t.Errorf("CollectRefs of the list form: ids %v, want the variable map's Ref too", got.IDs)
	}
}

// TestSubstituteAndSSMNames: Substitute replaces the variables SubParts names
// and leaves "${!Literal}" (which the User Guide says names no variable);
// SSMNames reads the dynamic-reference forms of the CloudFormation User Guide
// ("{{resolve:ssm:parameter-name:version}}", "{{resolve:ssm-secure:...}}").
func TestSubstituteAndSSMNames(t *testing.T) {
	got := Substitute("arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Role.Arn}", func(n string) string { return "<" + n + ">" })
	if got != "arn:<AWS::Partition>:s3:::<Bucket>/${!Literal}/<Role.Arn>" {
		t.Errorf("Substitute: %q", got)
	}
	names := SSMNames("{{resolve:ssm:/bp/ami/gpu:3}} and {{resolve:ssm-secure:DbPassword:1}} and {{resolve:secretsmanager:x}}")
	if !reflect.DeepEqual(names, []string{"/bp/ami/gpu", "DbPassword"}) {
		t.Errorf("SSMNames: %v", names)
	}
}

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

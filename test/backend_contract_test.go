package test

import (
	"strings"
	"testing"
)

// TestFrontendEnvironment: the backend's contract for the Next.js container
// (system facts, backend settings): "Frontend (nextjs): NODE_ENV=production,
// NEXT_PUBLIC_API_BASE_URL and NEXT_PUBLIC_API_URL (both `<api base>/api`)",
// the api base being the stage's own domain: https://<domainName>, or
// http:// where the stage is allowed plain HTTP.
func TestFrontendEnvironment(t *testing.T) {
	for _, b := range all() {
		cfg := b.stage.Cfg
		scheme := "https://"
		if cfg.CertificateArn == "" {
			scheme = "http://"
		}
		api := scheme + cfg.DomainName + "/api"
		env := envNames(container(t, b.templates["compute"], b.stage.Names.Service("frontend"), "nextjs"), "Environment")
		for k, want := range map[string]string{"NODE_ENV": "production", "NEXT_PUBLIC_API_BASE_URL": api, "NEXT_PUBLIC_API_URL": api} {
			if env[k] != want {
				t.Errorf("%s: nextjs %s = %v, want %q", b.label, k, env[k], want)
			}
		}
	}
}

// TestBackendTaskRoleUsesItsBuckets: "Backend task role: read/write the
// media, models and ComfyUI-logs buckets" (system facts, backend settings),
// evaluated on the role's identity policy with the buckets' real ARNs
// (arn:aws:s3:::<bucket> and arn:aws:s3:::<bucket>/<key>, Service
// Authorization Reference, Amazon S3 resource types); nothing on the access
// logs bucket, and nothing on another stage's buckets.
func TestBackendTaskRoleUsesItsBuckets(t *testing.T) {
	for _, b := range all() {
		cfg, n := b.stage.Cfg, b.stage.Names
		stmts := statements(b.templates["compute"], "BackendTaskTaskRole")
		for i, st := range stmts {
			stmts[i] = resolveImports(t, b, st).(map[string]any)
		}
		bucket := func(what string) string { return n.Resource(what) + "-" + cfg.Account }
		other := strings.Replace(bucket("media"), "-"+cfg.Stage+"-", "-other-", 1)
		for _, c := range []struct {
			action, resource string
			want             bool
		}{
			{"s3:GetObject", "arn:aws:s3:::" + bucket("media") + "/u/1/out.png", true},
			{"s3:PutObject", "arn:aws:s3:::" + bucket("media") + "/u/1/out.png", true},
			{"s3:ListBucket", "arn:aws:s3:::" + bucket("media"), true},
			{"s3:GetObject", "arn:aws:s3:::" + bucket("models") + "/bundles/b1/manifest.json", true},
			{"s3:PutObject", "arn:aws:s3:::" + bucket("models") + "/bundles/b1/manifest.json", true},
			{"s3:ListBucket", "arn:aws:s3:::" + bucket("models"), true},
			{"s3:GetObject", "arn:aws:s3:::" + bucket("comfyui-logs") + "/jobs/1.log", true},
			{"s3:PutObject", "arn:aws:s3:::" + bucket("comfyui-logs") + "/jobs/1.log", true},
			{"s3:GetObject", "arn:aws:s3:::" + bucket("access-logs") + "/alb/x.gz", false},
			{"s3:PutObject", "arn:aws:s3:::" + bucket("access-logs") + "/alb/x.gz", false},
			{"s3:GetObject", "arn:aws:s3:::" + other + "/u/1/out.png", false},
			{"s3:PutBucketPolicy", "arn:aws:s3:::" + bucket("media"), false},
		} {
			if got := identityAllows(stmts, cfg.Account, c.action, c.resource, nil); got != c.want {
				t.Errorf("%s: backend task role %s on %s: allowed = %v, want %v", b.label, c.action, c.resource, got, c.want)
			}
		}
	}
}

// resolveImports replaces each Fn::ImportValue of a bucket ARN exported by
// the stage's data stack with the bucket's literal ARN (the export's value is
// the bucket's GetAtt Arn; the bucket has a literal BucketName).
func resolveImports(t *testing.T, b *built, v any) any {
	t.Helper()
	switch node := v.(type) {
	case []any:
		out := make([]any, len(node))
		for i, e := range node {
			out[i] = resolveImports(t, b, e)
		}
		return out
	case map[string]any:
		if name, ok := node["Fn::ImportValue"].(string); ok && len(node) == 1 {
			return importedBucketArn(t, b, name)
		}
		out := map[string]any{}
		for k, e := range node {
			out[k] = resolveImports(t, b, e)
		}
		return out
	}
	return v
}

func importedBucketArn(t *testing.T, b *built, export string) any {
	t.Helper()
	for _, tpl := range b.templates {
		outputs, _ := tpl["Outputs"].(map[string]any)
		for _, o := range outputs {
			if get(o, "Export.Name") != export {
				continue
			}
			id, _ := get(o, "Value.Fn::GetAtt.0").(string)
			res, _ := tpl["Resources"].(map[string]any)
			r, _ := res[id].(map[string]any)
			if get(r, "Type") != "AWS::S3::Bucket" || get(o, "Value.Fn::GetAtt.1") != "Arn" {
				return "import:" + export // not a bucket ARN: matches no S3 resource
			}
			return "arn:aws:s3:::" + str(get(r, "Properties.BucketName"))
		}
	}
	t.Fatalf("%s: no stack exports %s", b.label, export)
	return nil
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/bp/infra/bootcontract"
	"github.com/bp/infra/worker/internal/registration"
)

// SecretsAPI is the Secrets Manager call used.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// FleetSecret returns the secret source: the literal value for local runs,
// else Secrets Manager by ARN. A JSON secret {"COMFYUI_FLEET_SECRET": "..."}
// (or any single-key object) is unwrapped.
func FleetSecret(literal, arn string, api SecretsAPI) registration.SecretSource {
	if literal != "" {
		return func(context.Context) (string, error) { return literal, nil }
	}
	return func(ctx context.Context) (string, error) {
		out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("secretsmanager GetSecretValue %s (from %s): %w", arn, bootcontract.EnvFleetSecretARN, err)
		}
		return unwrapSecret(aws.ToString(out.SecretString))
	}
}

func unwrapSecret(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var m map[string]string
		if err := json.Unmarshal([]byte(s), &m); err == nil {
			if v := m["COMFYUI_FLEET_SECRET"]; v != "" {
				return v, nil
			}
			if len(m) == 1 {
				for _, v := range m {
					return v, nil
				}
			}
			return "", errors.New("fleet secret is a JSON object without a COMFYUI_FLEET_SECRET key")
		}
	}
	if s == "" {
		return "", errors.New("fleet secret is empty")
	}
	return s, nil
}

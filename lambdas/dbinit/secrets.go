package dbinit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretReader is the part of the Secrets Manager client dbinit uses.
type secretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// credentials is a user name and password read from a secret. Both secret
// shapes RDS uses work: the CDK-generated one (username, password, host,
// port, engine, ...) and the RDS-managed one (ManageMasterUserPassword: only
// username and password). Other keys are ignored; the endpoint always comes
// from the resource properties.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String keeps the password out of logs and error messages.
func (c credentials) String() string { return fmt.Sprintf("{username:%s password:***}", c.Username) }

func readCredentials(ctx context.Context, api secretReader, arn string) (credentials, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return credentials{}, fmt.Errorf("read secret %s: %w", arn, err)
	}
	var c credentials
	// The json error text may quote part of the secret, so it is not wrapped.
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c) != nil {
		return credentials{}, fmt.Errorf("secret %s is not a JSON object with username and password", arn)
	}
	if c.Username == "" || c.Password == "" {
		return credentials{}, fmt.Errorf("secret %s has an empty username or password", arn)
	}
	return c, nil
}

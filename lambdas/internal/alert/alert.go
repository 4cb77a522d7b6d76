// Package alert publishes one message to the stage's alerts topic.
package alert

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// API is the part of the SNS client a function uses.
type API interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// maxSubject is SNS's limit on a subject (Publish, Amazon SNS API Reference:
// "Constraints: Subjects must be UTF-8 text with no line breaks or control
// characters, and less than 100 characters long").
const maxSubject = 99

// Publish sends subject (cut to the SNS limit) and message to topicArn; what
// names the alert in the error.
func Publish(ctx context.Context, api API, topicArn, what, subject, message string) error {
	if r := []rune(subject); len(r) > maxSubject {
		subject = string(r[:maxSubject])
	}
	_, err := api.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topicArn),
		Subject:  aws.String(subject),
		Message:  aws.String(message),
	})
	if err != nil {
		return fmt.Errorf("publish %s to %s: %w", what, topicArn, err)
	}
	return nil
}

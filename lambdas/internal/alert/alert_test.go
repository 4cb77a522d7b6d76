package alert

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sns"
)

type recorder struct{ in *sns.PublishInput }

func (r *recorder) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	r.in = in
	return &sns.PublishOutput{}, nil
}

// TestSubjectMeetsTheSNSLimit: "Subjects must be UTF-8 text with no line
// breaks or control characters, and less than 100 characters long" (SNS
// Publish, as the SDK documents it): a long subject is cut below 100
// characters, never inside a character.
func TestSubjectMeetsTheSNSLimit(t *testing.T) {
	for _, subject := range []string{strings.Repeat("x", 100), strings.Repeat("é", 120), "[staging] short"} {
		var r recorder
		if err := Publish(context.Background(), &r, "arn:aws:sns:us-east-1:111111111111:t", "test alert", subject, "body"); err != nil {
			t.Fatal(err)
		}
		got := *r.in.Subject
		if n := utf8.RuneCountInString(got); n >= 100 || !utf8.ValidString(got) || !strings.HasPrefix(subject, got) {
			t.Errorf("subject %q (%d characters) from %q: want a valid prefix of fewer than 100 characters", got, n, subject)
		}
		if *r.in.Message != "body" || *r.in.TopicArn == "" {
			t.Errorf("publish input = %+v", r.in)
		}
	}
}

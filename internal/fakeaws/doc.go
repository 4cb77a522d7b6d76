// Package fakeaws holds httptest stand-ins for the AWS endpoints the Lambdas
// and the worker call, one fake per service, each in its own file: Auto
// Scaling and SNS over the query protocol, EC2 DescribeInstances (EC2 query),
// Secrets Manager and SSM GetParameter over JSON 1.1, CloudWatch over
// rpc-v2-cbor, the EC2 instance metadata service (IMDSv2), and
// CloudFormation's pre-signed response URL. Config points SDK clients at a
// fake. Every fake closes at test cleanup. It is imported only from tests.
package fakeaws

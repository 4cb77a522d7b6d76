// Package fakeaws holds httptest stand-ins for the AWS endpoints the Lambdas
// call (Auto Scaling and SNS over the query protocol, Secrets Manager over JSON
// 1.1, CloudWatch over rpc-v2-cbor) and for CloudFormation's pre-signed
// response URL, and EC2 DescribeInstances (EC2 query) and SSM GetParameter
// (JSON 1.1). It is imported only from tests.
package fakeaws

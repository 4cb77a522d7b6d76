// Package fakes holds in-process stand-ins (httptest servers) for the
// non-AWS services the worker talks to: the backend (with a ledger of every
// job) and ComfyUI. The AWS fakes (IMDSv2, Auto Scaling, Secrets Manager)
// are in internal/fakeaws, shared with the Lambdas' tests.
package fakes

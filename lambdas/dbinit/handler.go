package dbinit

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bp/infra/lambdas/internal/cfnresponse"
)

// handler implements the dbinit custom resource.
type handler struct {
	secrets secretReader
	log     *slog.Logger
	policy  connectPolicy
	// roots verify the database certificate: the embedded RDS CAs; tests
	// put their own throwaway CA here.
	roots *x509.CertPool
}

func newHandler(secrets secretReader, log *slog.Logger) *handler {
	return &handler{secrets: secrets, log: log, policy: defaultConnectPolicy, roots: rdsRoots()}
}

// physicalID is the same for Create and every Update against one endpoint,
// so CloudFormation never sees a replacement.
func physicalID(host string) string { return "dbinit-" + host }

// Handle runs one custom resource request.
func (h *handler) Handle(ctx context.Context, req cfnresponse.Request) (cfnresponse.Result, error) {
	if req.RequestType == cfnresponse.RequestDelete {
		// Never drop databases or users: the data outlives the stack.
		h.log.Info("delete requested: leaving databases and user in place")
		return cfnresponse.Result{PhysicalResourceID: req.PhysicalResourceID}, nil
	}

	props, err := parseProperties(cfnresponse.Props(req.ResourceProperties))
	if err != nil {
		return cfnresponse.Result{PhysicalResourceID: req.PhysicalResourceID}, err
	}
	res := cfnresponse.Result{PhysicalResourceID: physicalID(props.Host)}

	var removed []string
	if req.RequestType == cfnresponse.RequestUpdate {
		removed = removedDatabases(h.previousDatabases(req.OldResourceProperties), props.Databases)
	}

	master, err := readCredentials(ctx, h.secrets, props.MasterSecretArn)
	if err != nil {
		return res, err
	}
	app, err := readCredentials(ctx, h.secrets, props.AppSecretArn)
	if err != nil {
		return res, err
	}
	if err := validateUserName(app.Username); err != nil {
		return res, err
	}
	if app.Username == master.Username {
		return res, fmt.Errorf("app secret names the master user %q; refusing to change the master's grants", app.Username)
	}

	if err := h.provision(ctx, props, master, app, removed); err != nil {
		return res, redact(err, master.Password, app.Password)
	}
	res.Data = map[string]any{
		"Databases": strings.Join(props.Databases, ","),
		"Username":  app.Username,
	}
	return res, nil
}

func (h *handler) provision(ctx context.Context, props properties, master, app credentials, removed []string) error {
	// Host and port come from the resource properties, never from the
	// secret: the RDS-managed master secret holds only username and password.
	ep := endpoint{Host: props.Host, Port: props.Port, Roots: h.roots}
	db, err := connect(ctx, ep, master, h.policy, h.log)
	if err != nil {
		return err
	}
	defer db.Close()

	p := provisioner{db: db, charset: props.Charset, collation: props.Collation, log: h.log,
		canLogin: func(ctx context.Context, user credentials) error {
			probe, err := connect(ctx, ep, user, connectPolicy{DialTimeout: h.policy.DialTimeout, Attempts: 1}, h.log)
			if err != nil {
				return err
			}
			return probe.Close()
		}}
	for _, name := range props.Databases {
		if err := p.ensureDatabase(ctx, name); err != nil {
			return err
		}
	}
	if err := p.ensureUser(ctx, app); err != nil {
		return err
	}
	for _, name := range props.Databases {
		if err := p.grant(ctx, app.Username, name); err != nil {
			return err
		}
	}
	for _, name := range removed {
		h.log.Info("revoking access to database removed from the list; data is kept", "database", name, "user", app.Username)
		if err := p.revoke(ctx, app.Username, name); err != nil {
			return err
		}
	}
	h.log.Info("databases and user provisioned", "databases", props.Databases, "user", app.Username, "revoked", removed)
	return nil
}

// previousDatabases reads the old Databases list. Names that fail validation
// were never created (that Create failed), so they are skipped, not fatal.
func (h *handler) previousDatabases(old map[string]any) []string {
	list, err := cfnresponse.Props(old).StringList("Databases")
	if err != nil {
		h.log.Warn("ignoring unreadable old Databases property", "error", err.Error())
		return nil
	}
	var out []string
	for _, name := range list {
		if validateDatabaseName(name) == nil {
			out = append(out, name)
		}
	}
	return out
}

// redact removes secrets from an error text. Server errors (a syntax error
// echoes the statement "near ...") could otherwise carry a password into the
// CloudFormation event log.
func redact(err error, secrets ...string) error {
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

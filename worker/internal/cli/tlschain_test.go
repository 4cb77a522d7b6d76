package cli_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// albChain builds a certificate chain shaped like the one the backend's ALB
// serves with its ACM certificate, so that the measured TLS handshake sends
// as many certificate bytes as the real one. Since August 2024 an ACM public
// certificate's chain is: the leaf, an Amazon intermediate ("Amazon RSA 2048
// M0x"), and one of Amazon Root CAs 1-4 cross-signed by the Starfield Services
// G2 root, the trust anchor (AWS Security Blog, "ACM will no longer cross sign
// certificates with Starfield Class 2 starting August 2024"). ACM's default
// key is RSA 2048. The stand-ins carry the extensions such certificates carry
// (authority information access, CRL distribution point, certificate policy,
// and on the leaf the embedded list of certificate-transparency timestamps,
// three SCTs), so their sizes are close to the real ones. The server sends
// leaf, intermediate and cross-signed root; the worker trusts the anchor
// through SSL_CERT_FILE, as Go reads it on Linux.
func albChain(t testing.TB) (cert tls.Certificate, anchorPEM []byte) {
	t.Helper()
	// One key signs and is certified everywhere: the sizes are those of
	// distinct RSA 2048 keys, and the test generates one key instead of four.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	serial := int64(1)
	issue := func(tmpl, parent *x509.Certificate) *x509.Certificate {
		t.Helper()
		serial++
		tmpl.SerialNumber = new(big.Int).Lsh(big.NewInt(serial), 120) // 16-byte serials, as public CAs use
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ca := func(cn string, years int) *x509.Certificate {
		return &x509.Certificate{
			Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"Example Trust Services"}, CommonName: cn},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.AddDate(years, 0, 0),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		}
	}
	revocation := func(c *x509.Certificate, name string) {
		c.OCSPServer = []string{"http://ocsp." + name + ".example-trust.test"}
		c.IssuingCertificateURL = []string{"http://crt." + name + ".example-trust.test/" + name + ".cer"}
		c.CRLDistributionPoints = []string{"http://crl." + name + ".example-trust.test/" + name + ".crl"}
	}

	anchor := issue(ca("Example Services Root Certificate Authority - G2", 25), nil)
	rootTmpl := ca("Example Root CA 1", 20)
	revocation(rootTmpl, "rootg2")
	root := issue(rootTmpl, anchor)
	interTmpl := ca("Example RSA 2048 M02", 8)
	interTmpl.MaxPathLenZero, interTmpl.ExtKeyUsage = true, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	revocation(interTmpl, "rootca1")
	interTmpl.Policies = []x509.OID{mustOID(t, "2.23.140.1.2.1")}
	inter := issue(interTmpl, root)

	leafTmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "api.staging.example.com"},
		DNSNames:    []string{"api.staging.example.com"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   now.Add(-time.Hour),
		NotAfter:    now.AddDate(0, 13, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		Policies:    []x509.OID{mustOID(t, "2.23.140.1.2.1")},
		ExtraExtensions: []pkix.Extension{{
			Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}, Value: sctList(t, 3),
		}},
	}
	revocation(leafTmpl, "r2m02")
	leaf := issue(leafTmpl, inter)

	cert = tls.Certificate{Certificate: [][]byte{leaf.Raw, inter.Raw, root.Raw}, PrivateKey: key, Leaf: leaf}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: anchor.Raw})
}

// sctList is the extension value of n signed certificate timestamps (RFC
// 6962 section 3.3): an OCTET STRING holding a length-prefixed list of
// length-prefixed SCTs of 119 bytes each (version, 32-byte log id, timestamp,
// no extensions, an ECDSA P-256 signature of about 72 bytes).
func sctList(t testing.TB, n int) []byte {
	t.Helper()
	const sctLen = 1 + 32 + 8 + 2 + 2 + 2 + 72
	list := []byte{0, 0}
	for range n {
		sct := make([]byte, sctLen)
		_, _ = rand.Read(sct)
		list = append(list, byte(sctLen>>8), byte(sctLen))
		list = append(list, sct...)
	}
	body := len(list) - 2
	list[0], list[1] = byte(body>>8), byte(body)
	der, err := asn1.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mustOID(t testing.TB, s string) x509.OID {
	t.Helper()
	oid, err := x509.ParseOID(s)
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "beat/config/schema.h"
#include "beat/core/status.h"

namespace sipbeat::outputs {

/// `ssl.*` of an output (reference/beats.md §3.7, libbeat tlscommon). Read once at start;
/// each output applies it to its transport (libcurl, OpenSSL, librdkafka).
struct TlsSettings {
    /// libbeat: TLS is on when the `ssl` section is present unless `ssl.enabled: false`
    /// (an `https://` host turns it on for Elasticsearch too).
    bool enabled = false;
    enum class Verification { Full, Strict, Certificate, None };
    Verification verification = Verification::Full;
    /// File paths or inline PEM blocks (isInlinePem tells which).
    std::vector<std::string> certificate_authorities;
    std::string certificate;  ///< client certificate: path or inline PEM
    std::string key;          ///< its private key: path or inline PEM
    std::string key_passphrase;
    /// From `supported_protocols` (default TLSv1.2 and TLSv1.3): "TLSv1.0" … "TLSv1.3".
    std::string min_version = "TLSv1.2";
    std::string max_version = "TLSv1.3";
    /// `ca_trusted_fingerprint` (or `ca_sha256`): SHA-256 of a CA certificate in the
    /// chain, lower-case hex without colons; empty when not set.
    std::string ca_trusted_fingerprint;

    /// Verify the peer's chain (full, strict, certificate).
    bool verifyPeer() const { return verification != Verification::None; }
    /// Verify that the certificate names the host (full, strict).
    bool verifyHost() const {
        return verification == Verification::Full || verification == Verification::Strict;
    }
};

/// The schema of the `ssl` section, to put under an output's schema as {"ssl", tlsSchema()}.
config::Spec tlsSchema();

/// Reads `<prefix>` (e.g. "output.logstash.ssl"). Keys sipbeat does not implement
/// (cipher_suites, curve_types, renegotiation other than never) are refused with an error
/// naming the key and the file, rather than silently ignored.
core::Result<TlsSettings> tlsFromConfig(const config::Config& cfg, const std::string& prefix);

/// True when `value` holds a PEM block rather than a file path (libbeat accepts both).
bool isInlinePem(std::string_view value);

/// libbeat's `ca_trusted_fingerprint` on an OpenSSL context (the Logstash transport's own,
/// libcurl's through CURLOPT_SSL_CTX_FUNCTION): a CA certificate of the chain the server
/// presents whose SHA-256 is `*fingerprint` (lower-case hex, see TlsSettings) is trusted as
/// a root (tlscommon trustRootCA), then the chain is verified as usual. `ssl_ctx` is an
/// `SSL_CTX*`; `fingerprint` must outlive it.
void pinTrustedCa(void* ssl_ctx, const std::string* fingerprint);

}  // namespace sipbeat::outputs

// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/tls.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sipbeat::outputs {

namespace {

// Protocol names in libbeat's order (tlscommon/versions_default.go).
constexpr std::array<std::string_view, 4> kProtocols = {"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

std::string sha256Hex(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(cert, EVP_sha256(), md, &len);
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back("0123456789abcdef"[md[i] >> 4]);
        hex.push_back("0123456789abcdef"[md[i] & 15]);
    }
    return hex;
}

int verifyWithPinnedCa(X509_STORE_CTX* store_ctx, void* arg) {
    const auto* fingerprint = static_cast<const std::string*>(arg);
    if (STACK_OF(X509)* chain = X509_STORE_CTX_get0_untrusted(store_ctx); chain != nullptr) {
        for (int i = 0; i < sk_X509_num(chain); ++i) {
            X509* cert = sk_X509_value(chain, i);
            if (X509_check_ca(cert) != 0 && sha256Hex(cert) == *fingerprint) {
                X509_STORE_add_cert(X509_STORE_CTX_get0_store(store_ctx), cert);
                ERR_clear_error();  // "already in store" is fine
                break;
            }
        }
    }
    return X509_verify_cert(store_ctx);
}

}  // namespace

void pinTrustedCa(void* ssl_ctx, const std::string* fingerprint) {
    SSL_CTX_set_cert_verify_callback(static_cast<SSL_CTX*>(ssl_ctx), verifyWithPinnedCa,
                                     const_cast<std::string*>(fingerprint));
}

config::Spec tlsSchema() {
    return config::object({
        {"enabled", config::boolean(true)},
        {"verification_mode", config::oneOf("full", {"full", "strict", "certificate", "none"})},
        {"supported_protocols", config::listOf(config::stringNoDefault(), "[TLSv1.2, TLSv1.3]")},
        {"certificate_authorities", config::listOf(config::stringNoDefault())},
        {"certificate", config::stringNoDefault()},
        {"key", config::stringNoDefault()},
        {"key_passphrase", config::stringNoDefault()},
        {"ca_trusted_fingerprint", config::stringNoDefault()},
        {"ca_sha256", config::stringNoDefault()},
        {"cipher_suites", config::any()},
        {"curve_types", config::any()},
        {"renegotiation", config::oneOf("never", {"never", "once", "freely"})},
    });
}

bool isInlinePem(std::string_view value) {
    return value.find("-----BEGIN") != std::string_view::npos;
}

core::Result<TlsSettings> tlsFromConfig(const config::Config& cfg, const std::string& prefix) {
    TlsSettings tls;
    const config::Node* section = cfg.node(prefix);
    if (section == nullptr) {
        return tls;  // no ssl section: plain TCP (or https:// decides, for Elasticsearch)
    }
    tls.enabled = cfg.getBool(prefix + ".enabled");
    for (const char* unsupported : {"cipher_suites", "curve_types"}) {
        const std::string path = prefix + "." + unsupported;
        if (cfg.has(path)) {
            return core::Status::error(cfg.errorAt(
                path, "sipbeat uses OpenSSL's default cipher suites and curves; remove it"));
        }
    }
    if (const std::string path = prefix + ".renegotiation";
        cfg.has(path) && cfg.getString(path) != "never") {
        return core::Status::error(
            cfg.errorAt(path, "TLS renegotiation is not supported (only 'never')"));
    }
    const std::string mode = cfg.getString(prefix + ".verification_mode");
    if (mode == "none") {
        tls.verification = TlsSettings::Verification::None;
    } else if (mode == "certificate") {
        tls.verification = TlsSettings::Verification::Certificate;
    } else if (mode == "strict") {
        tls.verification = TlsSettings::Verification::Strict;
    }
    const std::vector<std::string> protocols = cfg.getStringList(prefix + ".supported_protocols");
    if (protocols.empty()) {
        return core::Status::error(
            cfg.errorAt(prefix + ".supported_protocols", "needs at least one protocol"));
    }
    size_t lo = kProtocols.size();
    size_t hi = 0;
    for (const std::string& p : protocols) {
        const auto* it = std::find(kProtocols.begin(), kProtocols.end(), p);
        if (it == kProtocols.end()) {
            return core::Status::error(
                cfg.errorAt(prefix + ".supported_protocols",
                            "unknown protocol '" + p + "' (TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3)"));
        }
        const auto i = static_cast<size_t>(it - kProtocols.begin());
        lo = std::min(lo, i);
        hi = std::max(hi, i);
    }
    tls.min_version = std::string(kProtocols[lo]);
    tls.max_version = std::string(kProtocols[hi]);
    tls.certificate_authorities = cfg.getStringList(prefix + ".certificate_authorities");
    tls.certificate = cfg.getString(prefix + ".certificate");
    tls.key = cfg.getString(prefix + ".key");
    tls.key_passphrase = cfg.getString(prefix + ".key_passphrase");
    if (tls.certificate.empty() != tls.key.empty()) {
        const std::string missing = tls.certificate.empty() ? "certificate" : "key";
        return core::Status::error(cfg.errorAt(
            prefix + "." + missing, "a client certificate needs both certificate and key"));
    }
    std::string fingerprint = cfg.getString(prefix + ".ca_trusted_fingerprint");
    std::string fp_key = prefix + ".ca_trusted_fingerprint";
    if (fingerprint.empty()) {
        fingerprint = cfg.getString(prefix + ".ca_sha256");
        fp_key = prefix + ".ca_sha256";
    }
    for (char c : fingerprint) {
        if (c == ':') {
            continue;
        }
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return core::Status::error(cfg.errorAt(fp_key, "must be a SHA-256 fingerprint in hex"));
        }
        tls.ca_trusted_fingerprint.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (!tls.ca_trusted_fingerprint.empty() && tls.ca_trusted_fingerprint.size() != 64) {
        return core::Status::error(cfg.errorAt(fp_key, "must be a SHA-256 fingerprint in hex"));
    }
    return tls;
}

}  // namespace sipbeat::outputs

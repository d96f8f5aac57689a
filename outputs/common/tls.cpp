// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/tls.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace sipbeat::outputs {

namespace {

std::string keyError(const config::Config& cfg, const std::string& path, const std::string& what) {
    return what + " accessing '" + path + "' " + cfg.originOf(path).describe();
}

// Protocol names in libbeat's order (tlscommon/versions_default.go).
constexpr std::array<std::string_view, 4> kProtocols = {"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};

}  // namespace

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
            return core::Status::error(keyError(
                cfg, path, "sipbeat uses OpenSSL's default cipher suites and curves; remove it"));
        }
    }
    if (const std::string path = prefix + ".renegotiation";
        cfg.has(path) && cfg.getString(path) != "never") {
        return core::Status::error(
            keyError(cfg, path, "TLS renegotiation is not supported (only 'never')"));
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
            keyError(cfg, prefix + ".supported_protocols", "needs at least one protocol"));
    }
    size_t lo = kProtocols.size();
    size_t hi = 0;
    for (const std::string& p : protocols) {
        const auto* it = std::find(kProtocols.begin(), kProtocols.end(), p);
        if (it == kProtocols.end()) {
            return core::Status::error(
                keyError(cfg, prefix + ".supported_protocols",
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
        return core::Status::error(keyError(cfg, prefix + "." + missing,
                                            "a client certificate needs both certificate and key"));
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
            return core::Status::error(
                keyError(cfg, fp_key, "must be a SHA-256 fingerprint in hex"));
        }
        tls.ca_trusted_fingerprint.push_back(
            static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (!tls.ca_trusted_fingerprint.empty() && tls.ca_trusted_fingerprint.size() != 64) {
        return core::Status::error(keyError(cfg, fp_key, "must be a SHA-256 fingerprint in hex"));
    }
    return tls;
}

}  // namespace sipbeat::outputs

// SPDX-License-Identifier: Apache-2.0
#include "outputs/common/tls.h"

#include <memory>

#include <gtest/gtest.h>

#include "beat/config/node.h"
#include "beat/config/schema.h"

namespace sipbeat::outputs {
namespace {

config::Config tlsConfigOf(const std::string& yaml) {
    auto schema = std::make_shared<config::Spec>(config::object({
        {"output", config::object({{"logstash", config::object({{"ssl", tlsSchema()}})}})},
    }));
    config::Node root = config::parseYaml(yaml, "sipbeat.yml");
    config::validate(root, *schema);
    return config::Config(std::move(root), schema);
}

core::Result<TlsSettings> read(const std::string& yaml) {
    return tlsFromConfig(tlsConfigOf(yaml), "output.logstash.ssl");
}

TEST(TlsSettingsTest, NoSslSectionMeansPlainConnection) {
    auto tls = read("output.logstash: {}\n");
    ASSERT_TRUE(tls.isOk()) << tls.status().message();
    EXPECT_FALSE(tls.value().enabled);
}

TEST(TlsSettingsTest, ASectionTurnsTlsOnWithLibbeatDefaults) {
    auto tls = read("output.logstash.ssl.certificate_authorities: [/etc/ca.pem]\n");
    ASSERT_TRUE(tls.isOk()) << tls.status().message();
    EXPECT_TRUE(tls.value().enabled);
    EXPECT_EQ(tls.value().verification, TlsSettings::Verification::Full);
    EXPECT_TRUE(tls.value().verifyPeer());
    EXPECT_TRUE(tls.value().verifyHost());
    EXPECT_EQ(tls.value().min_version, "TLSv1.2");
    EXPECT_EQ(tls.value().max_version, "TLSv1.3");
    EXPECT_EQ(tls.value().certificate_authorities, std::vector<std::string>{"/etc/ca.pem"});
}

TEST(TlsSettingsTest, EnabledFalseWinsOverTheSection) {
    auto tls = read("output.logstash.ssl: {enabled: false, verification_mode: none}\n");
    ASSERT_TRUE(tls.isOk());
    EXPECT_FALSE(tls.value().enabled);
}

TEST(TlsSettingsTest, VerificationModes) {
    auto cert = read("output.logstash.ssl.verification_mode: certificate\n");
    ASSERT_TRUE(cert.isOk());
    EXPECT_TRUE(cert.value().verifyPeer());
    EXPECT_FALSE(cert.value().verifyHost());
    auto none = read("output.logstash.ssl.verification_mode: none\n");
    ASSERT_TRUE(none.isOk());
    EXPECT_FALSE(none.value().verifyPeer());
    EXPECT_FALSE(none.value().verifyHost());
}

TEST(TlsSettingsTest, SupportedProtocolsGiveTheRange) {
    auto tls = read("output.logstash.ssl.supported_protocols: [TLSv1.3, TLSv1.1]\n");
    ASSERT_TRUE(tls.isOk()) << tls.status().message();
    EXPECT_EQ(tls.value().min_version, "TLSv1.1");
    EXPECT_EQ(tls.value().max_version, "TLSv1.3");
    auto bad = read("output.logstash.ssl.supported_protocols: [SSLv3]\n");
    ASSERT_FALSE(bad.isOk());
    EXPECT_NE(bad.status().message().find("'output.logstash.ssl.supported_protocols'"),
              std::string::npos);
    EXPECT_NE(bad.status().message().find("sipbeat.yml"), std::string::npos);
}

TEST(TlsSettingsTest, FingerprintIsNormalised) {
    const std::string hex = "3A:B2" + std::string(60, 'c');
    auto tls = read("output.logstash.ssl.ca_trusted_fingerprint: '" + hex + "'\n");
    ASSERT_TRUE(tls.isOk()) << tls.status().message();
    EXPECT_EQ(tls.value().ca_trusted_fingerprint, "3ab2" + std::string(60, 'c'));
    EXPECT_FALSE(read("output.logstash.ssl.ca_sha256: 'nothex'\n").isOk());
    EXPECT_FALSE(read("output.logstash.ssl.ca_trusted_fingerprint: 'abcd'\n").isOk());
}

TEST(TlsSettingsTest, UnsupportedKeysAreRefusedByName) {
    auto ciphers = read("output.logstash.ssl.cipher_suites: [ECDHE-RSA-AES-128-GCM-SHA256]\n");
    ASSERT_FALSE(ciphers.isOk());
    EXPECT_NE(ciphers.status().message().find("'output.logstash.ssl.cipher_suites'"),
              std::string::npos);
    EXPECT_FALSE(read("output.logstash.ssl.renegotiation: freely\n").isOk());
    EXPECT_TRUE(read("output.logstash.ssl.renegotiation: never\n").isOk());
}

TEST(TlsSettingsTest, ClientCertificateNeedsItsKey) {
    auto tls = read("output.logstash.ssl.certificate: /etc/client.pem\n");
    ASSERT_FALSE(tls.isOk());
    EXPECT_NE(tls.status().message().find("'output.logstash.ssl.key'"), std::string::npos);
}

TEST(TlsSettingsTest, InlinePemIsRecognised) {
    EXPECT_TRUE(isInlinePem("-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----"));
    EXPECT_FALSE(isInlinePem("/etc/pki/ca.pem"));
}

}  // namespace
}  // namespace sipbeat::outputs

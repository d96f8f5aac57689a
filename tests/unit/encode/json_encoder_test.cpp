// SPDX-License-Identifier: Apache-2.0
#include "beat/encode/json_encoder.h"

#include <gtest/gtest.h>

namespace sipbeat::encode {
namespace {

JsonOptions opts() {
    JsonOptions o;
    o.version = "0.1.0";
    o.precision = core::Precision::Microsecond;
    return o;
}

TEST(JsonEncoderTest, NestsDottedNamesSortedAfterTimestampAndMetadata) {
    event::Document doc;
    doc.timestamp = 1180806107LL * core::kNsPerSecond + 218123456;
    doc.setString("sip.method", "REGISTER");
    doc.setString("type", "sip");
    doc.setInt("sip.cseq.code", 75);
    doc.setString("sip.call_id", "578222729-4665d775@578222732-4665d772");
    doc.setString("sip.cseq.method", "REGISTER");
    doc.setBool("sip.private", false);
    doc.setStringList("related.ip", {"192.168.1.2", "212.242.33.35"});
    doc.setMeta("raw_index", "sip-x");
    JsonEncoder enc(opts());
    std::string out;
    enc.encode(doc, out);
    EXPECT_EQ(out,
              "{\"@timestamp\":\"2007-06-02T17:41:47.218123Z\","
              "\"@metadata\":{\"beat\":\"sipbeat\",\"type\":\"_doc\",\"version\":\"0.1.0\","
              "\"raw_index\":\"sip-x\"},"
              "\"related\":{\"ip\":[\"192.168.1.2\",\"212.242.33.35\"]},"
              "\"sip\":{\"call_id\":\"578222729-4665d775@578222732-4665d772\","
              "\"cseq\":{\"code\":75,\"method\":\"REGISTER\"},\"method\":\"REGISTER\","
              "\"private\":false},\"type\":\"sip\"}");
}

TEST(JsonEncoderTest, ParentsSortBeforeSiblingsWithLongerNames) {
    // "a.b" and "a.b_c": the '.' must sort first or "a.b" would be reopened.
    event::Document doc;
    doc.setInt("a.b_c", 1);
    doc.setInt("a.b.d", 2);
    doc.setInt("a.b.e", 3);
    doc.setInt("ab", 4);
    JsonEncoder enc(opts());
    std::string out;
    enc.encode(doc, out);
    EXPECT_NE(out.find("\"a\":{\"b\":{\"d\":2,\"e\":3},\"b_c\":1},\"ab\":4}"), std::string::npos)
        << out;
}

TEST(JsonEncoderTest, ValueAndObjectAtOnePathIsCountedNotInvalidJson) {
    event::Document doc;
    doc.setString("host", "h");
    doc.setString("host.name", "n");
    JsonEncoder enc(opts());
    std::string out;
    enc.encode(doc, out);
    EXPECT_NE(out.find(",\"host\":\"h\"}"), std::string::npos) << out;
    EXPECT_EQ(enc.conflicts(), 1u);
}

TEST(JsonEncoderTest, NumbersAndInvalidUtf8) {
    event::Document doc;
    doc.setDouble("d", 0.25);
    doc.setUint("u", 18446744073709551615ULL);
    doc.setInt("i", -3);
    doc.setString("s", "bad\xFF");
    JsonEncoder enc(opts());
    std::string out;
    enc.encode(doc, out);
    EXPECT_NE(out.find("\"d\":0.25,\"i\":-3,\"s\":\"bad\xEF\xBF\xBD\",\"u\":18446744073709551615"),
              std::string::npos)
        << out;
}

TEST(JsonEncoderTest, DocumentIsReusable) {
    event::Document doc;
    JsonEncoder enc(opts());
    std::string out;
    for (int i = 0; i < 3; ++i) {
        doc.clear();
        doc.setString("k", std::string(10000, static_cast<char>('a' + i)));
        enc.encode(doc, out);
        EXPECT_NE(out.find(std::string(10000, static_cast<char>('a' + i))), std::string::npos);
    }
}

TEST(PrettyPrintTest, IndentsLikeGo) {
    EXPECT_EQ(prettyPrint("{\"a\":{\"b\":[1,2]},\"c\":\"x,{y}\",\"e\":{}}"),
              "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  },\n  \"c\": \"x,{y}\",\n"
              "  \"e\": {}\n}");
}

}  // namespace
}  // namespace sipbeat::encode

// SPDX-License-Identifier: Apache-2.0
#include "beat/processors/field_source.h"

#include <gtest/gtest.h>

#include "beat/event/document.h"

namespace sipbeat::processors {
namespace {

TEST(DocumentFieldSourceTest, LooksUpFlatDottedKeys) {
    event::Document doc;
    doc.setString("sip.method", "INVITE");
    doc.setInt("sip.status", 200);
    doc.setMeta("index", "sip-calls");
    const DocumentFieldSource src(doc);
    ASSERT_NE(src.lookup("sip.method"), nullptr);
    EXPECT_EQ(src.lookup("sip.method")->s, "INVITE");
    EXPECT_EQ(src.lookup("sip.status")->i, 200);
    EXPECT_EQ(src.lookup("sip"), nullptr);  // an object is no leaf
    EXPECT_EQ(src.lookup("sip.metho"), nullptr);
    ASSERT_NE(src.lookup("@metadata.index"), nullptr);
    EXPECT_EQ(src.lookup("@metadata.index")->s, "sip-calls");
}

TEST(DocumentFieldSourceTest, HasCoversLeavesAndParents) {
    event::Document doc;
    doc.setString("sip.method", "INVITE");
    doc.setString("sipx", "y");
    doc.setMeta("pipeline", "p");
    const DocumentFieldSource src(doc);
    EXPECT_TRUE(src.has("sip"));
    EXPECT_TRUE(src.has("sip.method"));
    EXPECT_TRUE(src.has("sipx"));
    EXPECT_FALSE(src.has("si"));
    EXPECT_FALSE(src.has("sip.method.x"));
    EXPECT_FALSE(src.has("source"));
    EXPECT_TRUE(src.has("@timestamp"));
    EXPECT_TRUE(src.has("@metadata"));
    EXPECT_TRUE(src.has("@metadata.pipeline"));
    EXPECT_FALSE(src.has("@metadata.index"));
}

TEST(JsonFieldSourceTest, WalksNestedObjectsWithTypes) {
    const std::string json =
        R"({"@timestamp":"2024-01-02T03:04:05.000Z","@metadata":{"beat":"sipbeat"},)"
        R"("sip":{"method":"INVITE","status":200,"big":18446744073709551615,"ratio":0.5,)"
        R"("ok":true,"none":null,"empty":{}},"tags":["a","b"],"ports":[5060,5061],)"
        R"("mixed":[1,"x"],"log.level":"info","a":{"b.c":{"d":1}}})";
    const JsonFieldSource src(json);
    const event::Field* f = src.lookup("sip.method");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::String);
    EXPECT_EQ(f->s, "INVITE");
    f = src.lookup("sip.status");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::Int);
    EXPECT_EQ(f->i, 200);
    f = src.lookup("sip.big");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::Uint);
    EXPECT_EQ(f->u, 18446744073709551615ULL);
    f = src.lookup("sip.ratio");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::Double);
    EXPECT_DOUBLE_EQ(f->d, 0.5);
    f = src.lookup("sip.ok");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::Bool);
    EXPECT_TRUE(f->b);
    f = src.lookup("tags");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::StringList);
    ASSERT_EQ(f->list.size(), 2u);
    EXPECT_EQ(f->list[1], "b");
    f = src.lookup("ports");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->kind, event::ValueKind::IntList);
    ASSERT_EQ(f->ints.size(), 2u);
    EXPECT_EQ(f->ints[1], 5061);
    EXPECT_EQ(src.lookup("mixed"), nullptr);
    EXPECT_EQ(src.lookup("sip.none"), nullptr);
    EXPECT_EQ(src.lookup("sip"), nullptr);
    EXPECT_EQ(src.lookup("@metadata.beat")->s, "sipbeat");
    EXPECT_EQ(src.lookup("@timestamp")->s, "2024-01-02T03:04:05.000Z");
    // Keys that hold dots themselves, at any level.
    ASSERT_NE(src.lookup("log.level"), nullptr);
    EXPECT_EQ(src.lookup("log.level")->s, "info");
    ASSERT_NE(src.lookup("a.b.c.d"), nullptr);
    EXPECT_EQ(src.lookup("a.b.c.d")->i, 1);
    EXPECT_EQ(src.lookup("a.b"), nullptr);
    EXPECT_EQ(src.lookup(""), nullptr);
}

TEST(JsonFieldSourceTest, HasObjectsLeavesAndNulls) {
    const JsonFieldSource src(R"({"sip":{"method":"INVITE","empty":{},"none":null},"x":[]})");
    EXPECT_TRUE(src.has("sip"));
    EXPECT_TRUE(src.has("sip.method"));
    EXPECT_FALSE(src.has("sip.empty"));
    EXPECT_TRUE(src.has("sip.none"));
    EXPECT_TRUE(src.has("x"));
    EXPECT_FALSE(src.has("sip.method.x"));
    EXPECT_FALSE(src.has("source"));
}

TEST(JsonFieldSourceTest, InvalidJsonHasNoFields) {
    for (const char* bad : {"", "{", "[1,2]", "\"s\"", "{\"a\":1}trailing", "{\"a\":}", "nul"}) {
        const JsonFieldSource src(bad);
        EXPECT_EQ(src.lookup("a"), nullptr) << bad;
        EXPECT_FALSE(src.has("a")) << bad;
    }
}

TEST(JsonFieldSourceTest, DeepNestingDoesNotExhaustTheStack) {
    std::string json;
    for (int i = 0; i < 200000; ++i) {
        json += "{\"a\":";
    }
    json += "1";
    json.append(200000, '}');
    const JsonFieldSource src(json);
    EXPECT_TRUE(src.has("a"));
    EXPECT_EQ(src.lookup("a.a.a.b"), nullptr);
}

TEST(JsonFieldSourceTest, ParsesOnlyWhenAsked) {
    // Nothing is read from the view until a lookup: a source over a view that is
    // never looked at costs nothing (and a dangling view is never touched).
    const JsonFieldSource src(std::string_view(nullptr, 0));
    SUCCEED();
}

}  // namespace
}  // namespace sipbeat::processors

// SPDX-License-Identifier: Apache-2.0
#include "beat/core/json_escape.h"

#include <gtest/gtest.h>

namespace sipbeat::core {
namespace {

std::string esc(std::string_view in, bool html = false) {
    std::string out;
    appendJsonEscaped(out, in, html);
    return out;
}

TEST(JsonEscapeTest, ControlCharactersAndQuotes) {
    EXPECT_EQ(esc("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(esc("INVITE sip:x SIP/2.0\r\n"), "INVITE sip:x SIP/2.0\\r\\n");
    EXPECT_EQ(esc(std::string_view("\x00\x1f\t", 3)), "\\u0000\\u001f\\t");
}

TEST(JsonEscapeTest, ValidUtf8PassesThrough) {
    EXPECT_EQ(esc("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x93\x9E"),
              "J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x93\x9E");
}

TEST(JsonEscapeTest, InvalidUtf8BecomesReplacementCharacter) {
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(esc("a\xFF"
                  "b"),
              "a" + r + "b");
    // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
    EXPECT_EQ(esc("a\xE2\x82"), "a" + r);
    // Overlong encoding of '/' and a UTF-16 surrogate are invalid.
    EXPECT_EQ(esc("\xC0\xAF"), r + r);
    EXPECT_EQ(esc("\xED\xA0\x80"), r + r + r);
}

TEST(JsonEscapeTest, HtmlEscaping) {
    EXPECT_EQ(esc("<sip:a@b>&", true), "\\u003csip:a@b\\u003e\\u0026");
    EXPECT_EQ(esc("<sip:a@b>&", false), "<sip:a@b>&");
}

}  // namespace
}  // namespace sipbeat::core

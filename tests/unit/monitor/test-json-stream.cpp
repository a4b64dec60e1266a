// QMP framing (QEMU's json-streamer behaviour), QEMU's parser refusals and
// QEMU's output style.
#include <string>
#include <vector>

#include "json-stream.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc::monitor;

namespace {

struct Collected {
    std::vector<std::string> messages;
    std::vector<std::string> errors;
};

JsonStreamer make(Collected &c, std::size_t max = JsonStreamer::kDefaultMaxSize)
{
    return JsonStreamer(JsonStreamer::Sink{[&c](std::string &&m) { c.messages.push_back(m); },
                                           [&c](const std::string &e) { c.errors.push_back(e); }},
                        max);
}

void test_messages_not_lines(void **)
{
    Collected c;
    auto s = make(c);
    s.feed("{\"execute\": \"stop\"}{\"execute\"");
    assert_int_equal(c.messages.size(), 1);
    assert_string_equal(c.messages[0].c_str(), "{\"execute\": \"stop\"}");
    assert_true(s.partial());
    s.feed(":\n \"cont\"}\r\n");
    assert_int_equal(c.messages.size(), 2);
    assert_string_equal(c.messages[1].c_str(), "{\"execute\":\n \"cont\"}");
    assert_false(s.partial());
    assert_int_equal(c.errors.size(), 0);
}

void test_braces_inside_strings(void **)
{
    Collected c;
    auto s = make(c);
    s.feed("{\"a\": \"}{\\\"]\"}");
    assert_int_equal(c.messages.size(), 1);
    assert_string_equal(c.messages[0].c_str(), "{\"a\": \"}{\\\"]\"}");
}

void test_single_quotes(void **)
{
    Collected c;
    auto s = make(c);
    s.feed("{'execute': 'x\"y', 'arguments': {'k': 'it\\'s', \"d\": \"q'q\"}}");
    assert_int_equal(c.messages.size(), 1);
    std::string err;
    auto j = parse_message(c.messages[0], &err);
    assert_true(j.has_value());
    assert_string_equal((*j)["execute"].get<std::string>().c_str(), "x\"y");
    assert_string_equal((*j)["arguments"]["k"].get<std::string>().c_str(), "it's");
    assert_string_equal((*j)["arguments"]["d"].get<std::string>().c_str(), "q'q");
}

void test_top_level_scalars(void **)
{
    Collected c;
    auto s = make(c);
    s.feed("42 garbage\n\"str\"[1]]");
    assert_int_equal(c.messages.size(), 5);
    assert_string_equal(c.messages[0].c_str(), "42");
    assert_string_equal(c.messages[1].c_str(), "garbage");
    assert_string_equal(c.messages[2].c_str(), "\"str\"");
    assert_string_equal(c.messages[3].c_str(), "[1]");
    assert_string_equal(c.messages[4].c_str(), "]");
}

void test_oversized_message_skipped(void **)
{
    Collected c;
    auto s = make(c, 64);
    std::string big = "{\"execute\": \"x\", \"arguments\": {\"a\": \"" + std::string(1000, 'A') +
                      "{[\", \"b\": [1, {\"c\": 2}]}}";
    s.feed(big);
    s.feed("{\"execute\": \"ok\"}");
    assert_int_equal(c.errors.size(), 1);
    assert_string_equal(c.errors[0].c_str(), "JSON token size limit exceeded");
    assert_int_equal(c.messages.size(), 1);
    assert_string_equal(c.messages[0].c_str(), "{\"execute\": \"ok\"}");
}

void test_nesting_limit(void **)
{
    Collected c;
    auto s = make(c);
    std::string deep(JsonStreamer::kMaxDepth + 1, '[');
    s.feed(deep);
    s.feed(std::string(JsonStreamer::kMaxDepth + 1, ']'));
    s.feed("{}");
    assert_int_equal(c.errors.size(), 1);
    assert_string_equal(c.errors[0].c_str(), "JSON nesting depth limit exceeded");
    assert_int_equal(c.messages.size(), 1);
    assert_string_equal(c.messages[0].c_str(), "{}");
}

void test_parse_refusals(void **)
{
    std::string err;
    assert_false(parse_message("{\"a\": 1, \"a\": 2}", &err).has_value());
    assert_string_equal(err.c_str(), "JSON parse error, duplicate key");
    assert_false(parse_message("{\"a\": \"x\\u0000y\"}", &err).has_value());
    assert_string_equal(err.c_str(), "JSON parse error, \\u0000 is not supported");
    assert_false(parse_message("{\"a\": }", &err).has_value());
    assert_string_equal(err.c_str(), "JSON parse error, expecting value");
    assert_false(parse_message("]", &err).has_value());
    // Same key in different objects is fine.
    assert_true(parse_message("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}", &err).has_value());
}

void test_format_compact(void **)
{
    Json j;
    j["return"] = Json::object();
    j["id"] = 1;
    assert_string_equal(format_json(j).c_str(), "{\"return\": {}, \"id\": 1}");
    Json k;
    k["a"] = Json::array({1, true, nullptr, "x"});
    k["b"] = Json::array();
    assert_string_equal(format_json(k).c_str(), "{\"a\": [1, true, null, \"x\"], \"b\": []}");
}

void test_format_pretty(void **)
{
    Json j;
    j["return"]["a"] = 1;
    j["return"]["b"] = Json::array({1, 2});
    j["id"] = Json::object();
    assert_string_equal(format_json(j, true).c_str(),
                        "{\n"
                        "    \"return\": {\n"
                        "        \"a\": 1,\n"
                        "        \"b\": [\n"
                        "            1,\n"
                        "            2\n"
                        "        ]\n"
                        "    },\n"
                        "    \"id\": {}\n"
                        "}");
}

void test_format_strings(void **)
{
    Json j = std::string("q\"\\/\b\f\n\r\t\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff!");
    assert_string_equal(format_json(j).c_str(),
                        "\"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u007F\\u00E9\\u20AC\\uD83D\\uDE00\\uFFFD!\"");
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_not_lines),
        cmocka_unit_test(test_braces_inside_strings),
        cmocka_unit_test(test_single_quotes),
        cmocka_unit_test(test_top_level_scalars),
        cmocka_unit_test(test_oversized_message_skipped),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_format_compact),
        cmocka_unit_test(test_format_pretty),
        cmocka_unit_test(test_format_strings),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// The Acl model: legacy 1-based positions (util/acl.c 2014+), the 0-based
// QAuthZ API, reset, and the three match formats (qemu-tests.md §4, §9).
#include <string>

#include "acl.hpp"

#include "cmocka.hpp" // last: its macros clash with <ios>

using namespace qvnc::acl;

namespace {

Rule legacy(const char *match, Policy policy)
{
    return Rule{match, policy, Format::Fnmatch};
}

void assert_matches(Acl &acl, const char *const *expected)
{
    assert_int_equal(acl.size(), [&] {
        std::size_t n = 0;
        while (expected[n]) {
            ++n;
        }
        return n;
    }());
    for (std::size_t i = 0; i < acl.size(); ++i) {
        assert_string_equal(acl.rules()[i].match.c_str(), expected[i]);
    }
}

void test_new_list_denies(void **)
{
    Acl acl("vnc.username");
    assert_string_equal(acl.name().c_str(), "vnc.username");
    assert_int_equal(static_cast<int>(acl.policy()), static_cast<int>(Policy::Deny));
    assert_int_equal(acl.size(), 0);
    assert_false(acl.is_allowed("fred"));
    assert_false(acl.is_allowed(""));
}

void test_append_positions(void **)
{
    Acl acl;
    assert_int_equal(*acl.add(legacy("fred", Policy::Allow)), 1);
    assert_int_equal(*acl.add(legacy("bob", Policy::Allow)), 2);
    assert_int_equal(*acl.add(legacy("dan", Policy::Deny)), 3);
    const char *const want[] = {"fred", "bob", "dan", nullptr};
    assert_matches(acl, want);
}

void test_insert_positions(void **)
{
    Acl acl;
    // index <= 0: "acl: unable to add acl entry", nothing added.
    assert_false(acl.add(legacy("x", Policy::Allow), 0).has_value());
    assert_false(acl.add(legacy("x", Policy::Allow), -3).has_value());
    assert_int_equal(acl.size(), 0);

    // Beyond the end of an empty list: append.
    assert_int_equal(*acl.add(legacy("a", Policy::Allow), 5), 1);
    assert_int_equal(*acl.add(legacy("c", Policy::Allow)), 2);
    // Before the current entry #2.
    assert_int_equal(*acl.add(legacy("b", Policy::Allow), 2), 2);
    // Before entry #1: the head.
    assert_int_equal(*acl.add(legacy("first", Policy::Allow), 1), 1);
    // index == count inserts before the last entry (the 2014+ behaviour;
    // acl.c 2009-2012 appended here).
    assert_int_equal(*acl.add(legacy("before-last", Policy::Allow), 4), 4);
    // count + 1 and beyond: append, returning the new count.
    assert_int_equal(*acl.add(legacy("end", Policy::Allow), 6), 6);
    assert_int_equal(*acl.add(legacy("far", Policy::Allow), 1000), 7);
    const char *const want[] = {"first", "a", "b", "before-last", "c", "end", "far", nullptr};
    assert_matches(acl, want);
}

void test_remove(void **)
{
    Acl acl;
    acl.add(legacy("fred", Policy::Allow));
    acl.add(legacy("*", Policy::Deny));
    acl.add(legacy("bob", Policy::Allow));
    acl.add(legacy("bob", Policy::Deny));

    // Text equality, not a pattern match: "*" does not remove "fred".
    assert_false(acl.remove("fr*").has_value());
    assert_false(acl.remove("nobody").has_value());
    assert_int_equal(*acl.remove("*"), 2);
    // The first of two equal entries goes.
    assert_int_equal(*acl.remove("bob"), 2);
    assert_int_equal(acl.size(), 2);
    assert_int_equal(static_cast<int>(acl.rules()[1].policy), static_cast<int>(Policy::Deny));
    // The count stays right after removals (the 2009 acl.c forgot to
    // decrement it, so later appends reported drifting positions).
    assert_int_equal(*acl.add(legacy("dan", Policy::Allow)), 3);
    assert_int_equal(*acl.remove("dan"), 3);
    assert_int_equal(*acl.add(legacy("dan", Policy::Allow)), 3);
}

void test_first_match_wins(void **)
{
    Acl acl;
    acl.add(legacy("dan", Policy::Deny));
    acl.add(legacy("dan*", Policy::Allow));
    assert_false(acl.is_allowed("dan"));
    assert_true(acl.is_allowed("danb"));
    assert_false(acl.is_allowed("fred")); // default deny
    acl.set_policy(Policy::Allow);
    assert_true(acl.is_allowed("fred"));
    assert_false(acl.is_allowed("dan"));
}

void test_reset_denies(void **)
{
    Acl acl;
    acl.set_policy(Policy::Allow);
    acl.add(legacy("fred", Policy::Allow));
    assert_true(acl.is_allowed("anyone"));
    acl.reset();
    assert_int_equal(static_cast<int>(acl.policy()), static_cast<int>(Policy::Deny));
    assert_int_equal(acl.size(), 0);
    assert_false(acl.is_allowed("fred"));
    assert_false(acl.is_allowed("anyone"));
    assert_int_equal(*acl.add(legacy("fred", Policy::Allow)), 1);
}

void test_qauthz_indices(void **)
{
    Acl acl;
    assert_int_equal(acl.append_rule({"fred", Policy::Allow, Format::Exact}), 0);
    assert_int_equal(acl.append_rule({"bob", Policy::Allow, Format::Exact}), 1);
    assert_int_equal(acl.insert_rule({"head", Policy::Deny, Format::Exact}, 0), 0);
    assert_int_equal(acl.insert_rule({"mid", Policy::Deny, Format::Exact}, 2), 2);
    // Clamped to the end.
    assert_int_equal(acl.insert_rule({"tail", Policy::Deny, Format::Exact}, 99), 4);
    const char *const want[] = {"head", "fred", "mid", "bob", "tail", nullptr};
    assert_matches(acl, want);
    assert_int_equal(acl.delete_rule("mid"), 2);
    assert_int_equal(acl.delete_rule("mid"), -1);
    assert_int_equal(acl.delete_rule("tail"), 3);

    Acl empty;
    assert_int_equal(empty.insert_rule({"x", Policy::Deny, Format::Exact}, 3), 0);
}

void test_policy_and_format_names(void **)
{
    assert_string_equal(policy_name(Policy::Deny), "deny");
    assert_string_equal(policy_name(Policy::Allow), "allow");
    assert_true(parse_policy("deny") == Policy::Deny);
    assert_true(parse_policy("allow") == Policy::Allow);
    assert_false(parse_policy("Allow").has_value());
    assert_false(parse_policy("yes").has_value());
    assert_false(parse_policy("").has_value());
    assert_string_equal(format_name(Format::Exact), "exact");
    assert_string_equal(format_name(Format::Glob), "glob");
    assert_string_equal(format_name(Format::Fnmatch), "fnmatch");
    assert_true(parse_format("exact") == Format::Exact);
    assert_true(parse_format("glob") == Format::Glob);
    assert_false(parse_format("fnmatch").has_value());
    assert_false(parse_format("GLOB").has_value());
}

struct MatchRow {
    const char *pattern;
    const char *identity;
    bool fnmatch;
    bool glob;
    bool exact;
};

// qemu-tests.md §9 plus the cases around them.
const MatchRow kMatches[] = {
    {"*@EXAMPLE.COM", "fred@EXAMPLE.COM", true, true, false},
    {"*@EXAMPLE.COM", "fred@example.com", false, false, false},
    {"*@EXAMPLE.COM", "@EXAMPLE.COM", true, true, false},
    {"*@EXAMPLE.COM", "fred@EXAMPLE.COMX", false, false, false},
    {"C=UK,CN=qemu*", "C=UK,CN=qemu", true, true, false},
    {"C=UK,CN=*emu*", "C=UK,CN=qemu", true, true, false},
    {"dan?", "danb", true, true, false},
    {"dan?", "dan", false, false, false},
    {"dan?", "danbb", false, false, false},
    {"[bd]an", "dan", true, false, false},
    {"[bd]an", "ban", true, false, false},
    {"[bd]an", "can", false, false, false},
    {"[bd]an", "[bd]an", false, true, true},
    {"[a-c]x", "bx", true, false, false},
    {"[a-c]x", "dx", false, false, false},
    {"[!a-c]x", "dx", true, false, false},
    {"[[:alpha:]]1", "q1", true, false, false},
    {"fred\\*", "fred*", true, false, false},
    {"fred\\*", "fred\\x", false, true, false},
    {"fred\\*", "fred\\*", false, true, true},
    {"*", "a/b", true, true, false},
    {"*", ".hidden", true, true, false},
    {"*", "", true, true, false},
    {"fred", "fred", true, true, true},
    {"fred", "Fred", false, false, false},
    {"fred", "fredx", false, false, false},
    {"", "", true, true, true},
    // '?' is one UTF-8 character for glib, one byte for fnmatch in the C
    // locale the tests run in.
    {"caf?", "caf\xc3\xa9", false, true, false},
};

void test_match_formats(void **)
{
    for (const MatchRow &row : kMatches) {
        print_message("# pattern '%s' identity '%s'\n", row.pattern, row.identity);
        assert_int_equal(pattern_matches(Format::Fnmatch, row.pattern, row.identity), row.fnmatch);
        assert_int_equal(pattern_matches(Format::Glob, row.pattern, row.identity), row.glob);
        assert_int_equal(pattern_matches(Format::Exact, row.pattern, row.identity), row.exact);
    }
}

void test_embedded_nul(void **)
{
    using namespace std::string_literals;
    const std::string id = "fred\0evil"s;
    // The C matchers would see "fred"; the whole identity must count.
    assert_false(pattern_matches(Format::Fnmatch, "fred", id));
    assert_false(pattern_matches(Format::Glob, "fred", id));
    assert_false(pattern_matches(Format::Exact, "fred", id));
    assert_true(pattern_matches(Format::Exact, id, id));
    assert_false(pattern_matches(Format::Glob, "*", id));
}

void test_glob_invalid_utf8(void **)
{
    // Not valid UTF-8: matched bytewise, never read past the end.
    assert_true(pattern_matches(Format::Glob, "*evil*", "x-evil-\xf0"));
    assert_true(pattern_matches(Format::Glob, "a?", "a\xf0"));
    assert_false(pattern_matches(Format::Glob, "a?", "a"));
    assert_true(pattern_matches(Format::Glob, "\xff*", "\xff\xfe"));
    assert_false(pattern_matches(Format::Glob, "\xff?", "\xfe\xfe"));
    assert_true(pattern_matches(Format::Glob, "*\xf0", "ab\xf0"));
    assert_true(pattern_matches(Format::Glob, "a*b*c", "a\xf0xbyc"));
    assert_false(pattern_matches(Format::Glob, "a*b*c", "a\xf0xbyd"));

    Acl acl;
    acl.set_policy(Policy::Allow);
    acl.append_rule({"*evil*", Policy::Deny, Format::Glob});
    assert_false(acl.is_allowed("evil\xc3"));
    assert_true(acl.is_allowed("good\xc3"));
}

void test_rule_formats_in_list(void **)
{
    Acl acl;
    acl.append_rule({"[bd]an", Policy::Allow, Format::Glob});
    acl.append_rule({"[bd]an", Policy::Allow, Format::Fnmatch});
    acl.append_rule({"exact*", Policy::Allow, Format::Exact});
    assert_true(acl.is_allowed("[bd]an")); // glob: literal
    assert_true(acl.is_allowed("ban"));    // fnmatch: class
    assert_true(acl.is_allowed("exact*"));
    assert_false(acl.is_allowed("exactly"));
}

} // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_list_denies),
        cmocka_unit_test(test_append_positions),
        cmocka_unit_test(test_insert_positions),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_first_match_wins),
        cmocka_unit_test(test_reset_denies),
        cmocka_unit_test(test_qauthz_indices),
        cmocka_unit_test(test_policy_and_format_names),
        cmocka_unit_test(test_match_formats),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_glob_invalid_utf8),
        cmocka_unit_test(test_rule_formats_in_list),
    };
    return cmocka_run_group_tests_name("acl", tests, nullptr, nullptr);
}

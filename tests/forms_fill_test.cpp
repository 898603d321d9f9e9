// The fill engine over the built-in templates and the fixtures: relevance, required, constraints
// with their messages in the chosen language, calculations, cascading selects, nested repeats,
// metadata and type checks.

#include "forms/fill.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "forms/xlsform_reader.h"
#include "platform/files.h"
#include "support/temp_dir.h"

using namespace outpost::forms;

namespace {

const std::string kFixtures = OUTPOST_FORM_FIXTURES;
const std::string kTemplates = OUTPOST_FORM_TEMPLATES;
const std::string kFrench = "Français (fr)";

// 2026-03-01T08:00:00Z, in a UTC+1 zone.
Device test_device() {
  return Device{"device-7", [] { return LocalTime{1772352000000, 60}; }};
}

std::vector<std::string> described(const Form& form, const std::vector<FieldError>& errors) {
  std::vector<std::string> lines;
  for (const FieldError& error : errors) lines.push_back(error.describe(form));
  return lines;
}

std::vector<std::string> names(const std::vector<const Choice*>& choices) {
  std::vector<std::string> result;
  for (const Choice* choice : choices) result.push_back(choice->name);
  return result;
}

}  // namespace

TEST_CASE("forms fill: metadata is recorded when a submission starts and when it is finalized") {
  const Form form = read_xlsform(kFixtures + "/health_facility");
  FillSession session(form, "", test_device());
  CHECK(session.submission().answer("start", {}) == "2026-03-01T09:00:00.000+01:00");
  CHECK(session.submission().answer("today", {}) == "2026-03-01");
  CHECK(session.submission().answer("deviceid", {}) == "device-7");
  CHECK(session.submission().answer("end", {}).empty());
  CHECK(session.submission().answer("ors_stock_days", {}) == "0");  // its default
}

TEST_CASE("forms fill: required, constraints, calculations and relevance in a health facility survey") {
  const Form form = read_xlsform(kFixtures + "/health_facility");
  FillSession session(form, "", test_device());
  session.set_answer("facility_code", {}, "HF-12");
  session.set_answer("facility_type", {}, "hospital");
  session.set_answer("beds", {}, "40");
  session.set_answer("beds_occupied", {}, "50");
  session.set_answer("doctors", {}, "2");
  session.set_answer("nurses", {}, "6");
  session.set_answer("consultations_week", {}, "280");
  session.set_answer("services", {}, "immunization");
  CHECK(session.submission().answer("staff_total", {}) == "8");
  CHECK(session.submission().answer("consultations_per_clinician", {}) == "5");
  CHECK(session.is_relevant("cold_chain", {}));
  CHECK(described(form, session.validate()) ==
        std::vector<std::string>{"facility_code: The code is HF- followed by three digits.",
                                 "beds_occupied: Cannot be more than the number of beds.",
                                 "cold_chain: This question needs an answer."});

  session.set_answer("facility_code", {}, "HF-012");
  session.set_answer("beds_occupied", {}, "30");
  session.set_answer("cold_chain", {}, "yes");
  CHECK(session.submission().answer("occupancy", {}) == "75");
  CHECK(session.validate().empty());

  // Dropping immunization hides cold_chain: kept while filling, cleared when finalized.
  session.set_answer("services", {}, "outpatient maternity");
  CHECK_FALSE(session.is_relevant("cold_chain", {}));
  CHECK(described(form, session.finalize()).empty());
  CHECK(session.submission().answer("cold_chain", {}).empty());
  CHECK(session.submission().answer("end", {}) == "2026-03-01T09:00:00.000+01:00");
}

TEST_CASE("forms fill: answers are checked against their type") {
  const Form form = read_xlsform(kFixtures + "/all_types");
  FillSession session(form, "", test_device());
  std::vector<std::string> wrong;
  for (const Question& question : form.questions()) {
    const std::string_view type = type_name(question.type);
    const char* bad = type == "integer"           ? "1.5"
                      : type == "decimal"         ? "1,5"
                      : type == "date"            ? "2026-02-30"
                      : type == "time"            ? "25:00"
                      : type == "dateTime"        ? "2026-02-01 10:00"
                      : type == "geopoint"        ? "91 10"
                      : type == "select_one"      ? "nowhere"
                      : type == "select_multiple" ? "nothing such"
                                                  : nullptr;
    if (bad == nullptr || question.calculation || !form.enclosing_repeats(question).empty()) continue;
    session.set_answer(question.name, {}, bad);
    const auto error = session.check(question.name, {});
    REQUIRE_MESSAGE(error, question.name);
    wrong.push_back(std::string(type));
  }
  CHECK(wrong.size() >= 8);
}

TEST_CASE("forms fill: cascading selects show only the choices of the chosen region and district") {
  const Form form = read_xlsform(kFixtures + "/cascading_locations");
  FillSession session(form, "", test_device());
  CHECK(names(session.visible_choices("region", {})) == std::vector<std::string>{"north", "south"});
  session.set_answer("region", {}, "north");
  CHECK(names(session.visible_choices("district", {})) == std::vector<std::string>{"kaya", "ouahigouya"});
  session.set_answer("region", {}, "south");
  CHECK(names(session.visible_choices("district", {})) == std::vector<std::string>{"leo"});
  session.set_answer("district", {}, "leo");
  const std::vector<std::string> villages = names(session.visible_choices("village", {}));
  REQUIRE_FALSE(villages.empty());
  CHECK(villages.back() == "other");
  CHECK_FALSE(session.is_relevant("village_other", {}));
  session.set_answer("village", {}, "other");
  CHECK(session.is_relevant("village_other", {}));
}

TEST_CASE("forms fill: nested repeats (households -> members) with a repeat_count and sums across entries") {
  const Form form = read_xlsform(kFixtures + "/household_members");
  FillSession session(form, "", test_device());
  CHECK(session.add_repeat("household", {}) == 0);
  CHECK(session.add_repeat("household", {}) == 1);
  CHECK_THROWS_AS(session.add_repeat("member", {0}), FillError);  // its count comes from member_count
  session.set_answer("member_count", {0}, "3");
  CHECK(session.submission().entries("member", {0}) == 3);
  const std::vector<std::string> ages{"34", "9", "15"};
  for (size_t member = 0; member < ages.size(); ++member) {
    session.set_answer("age", {0, member}, ages[member]);
  }
  CHECK(session.submission().answer("children_count", {0}) == "2");
  CHECK_FALSE(session.is_relevant("in_school", {0, 0}));
  CHECK(session.is_relevant("in_school", {0, 1}));
  CHECK(session.submission().answer("household_total", {}) == "2");

  session.set_answer("member_count", {0}, "2");  // the third member goes, with their answers
  CHECK(session.submission().entries("member", {0}) == 2);
  CHECK(session.submission().answer("age", {0, 2}).empty());
  CHECK(session.submission().answer("children_count", {0}) == "1");

  session.set_answer("household_id", {1}, "HH-0002");
  session.remove_repeat("household", {}, 0);  // the second household moves up
  CHECK(session.submission().entries("household", {}) == 1);
  CHECK(session.submission().answer("household_id", {0}) == "HH-0002");
  CHECK(session.submission().answer("household_total", {}) == "1");
  CHECK_THROWS_WITH_AS(session.set_answer("age", {3, 0}, "4"), "age (household 4, member 1): no such repeat entry",
                       FillError);

  session.set_answer("member_count", {0}, "1");
  session.set_answer("age", {0, 0}, "130");
  const std::vector<std::string> errors = described(form, session.validate());
  CHECK(std::find(errors.begin(), errors.end(), "age (household 1, member 1): Age must be between 0 and 120.") !=
        errors.end());
}

TEST_CASE("forms fill: the 3W in French: constraint and required messages, calculations in each activity") {
  const Form form = read_xlsform(kTemplates + "/activity_3w");
  FillSession session(form, kFrench, test_device());
  session.set_answer("org_name", {}, "Solidarité Nord");
  session.set_answer("org_type", {}, form.choices("org_type")->choices.front().name);
  session.set_answer("reporting_period_end", {}, "2027-01-01");
  session.add_repeat("activities", {});
  session.set_answer("sector", {0}, "wash");
  session.set_answer("activity", {0}, "Kits d'hygiène");
  session.set_answer("adm1", {0}, "Nord");
  session.set_answer("adm2", {0}, "Kaya");
  session.set_answer("status", {0}, "completed");
  session.set_answer("start_date", {0}, "2026-02-01");
  session.set_answer("targeted", {0}, "-1");
  session.set_answer("reached_women", {0}, "120");
  session.set_answer("reached_men", {0}, "80");
  CHECK(session.submission().answer("reached_total", {0}) == "200");
  CHECK(described(form, session.validate()) ==
        std::vector<std::string>{"reporting_period_end: La date ne peut pas être dans le futur.",
                                 "end_date (activities 1): Une activité terminée doit avoir une date de fin.",
                                 "targeted (activities 1): Saisissez 0 ou un nombre positif."});
  CHECK_FALSE(session.finalize().empty());  // nothing changes while there are errors
  CHECK(session.submission().answer("end", {}).empty());
  CHECK_THROWS_AS(session.set_answer("reached_total", {0}, "3"), FillError);
  CHECK_THROWS_AS(session.set_answer("nowhere", {}, "3"), FillError);
}

TEST_CASE("forms fill: one page per top-level group or question, with its relevance") {
  const Form form = read_xlsform(kTemplates + "/activity_3w");
  const FillSession session(form, "", test_device());
  std::vector<std::string> pages;
  for (const Page& page : session.pages()) pages.push_back(form.questions()[page.question].name);
  CHECK(pages == std::vector<std::string>{"organization", "activities", "contact_email"});
}

TEST_CASE("forms fill: a constraint that cannot be evaluated with these answers is an error of the answer") {
  const Workbook workbook{"inline",
                          {parse_csv("type,name,label,constraint\n"
                                     "text,pattern,Pattern\n"
                                     "text,code,Code,\"regex(., ${pattern})\"\n",
                                     "inline/survey.csv", "survey")},
                          {"survey"}};
  const Form form = build_form(workbook);
  FillSession session(form, "", test_device());
  session.set_answer("pattern", {}, "^[0-9]+$");
  session.set_answer("code", {}, "123");
  CHECK(session.validate().empty());
  session.set_answer("pattern", {}, "([0-9]");
  const std::vector<std::string> errors = described(form, session.validate());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind("code: This answer cannot be checked: ", 0) == 0);
}

TEST_CASE("forms fill: ${name} in a label shows the current answer, inside a repeat the entry's own") {
  const Form all_types = read_xlsform(kFixtures + "/all_types");
  FillSession session(all_types, "", test_device());
  const std::string note = all_types.text(all_types.find("a_note")->label, kDefaultLanguageKey);
  CHECK(session.expand_references("a_note", {}, note) == "The text was hello");  // the default
  session.set_answer("a_text", {}, "Amina");
  CHECK(session.expand_references("a_note", {}, note) == "The text was Amina");
  CHECK(session.expand_references("a_note", {}, "${no_such} and ${unclosed") == " and ${unclosed");
  CHECK(session.expand_references("a_note", {}, "no references") == "no references");

  const Form households = read_xlsform(kFixtures + "/household_members");
  FillSession survey(households, "", test_device());
  const std::string children = households.text(households.find("children_note")->label, kDefaultLanguageKey);
  for (const std::vector<std::string>& each : {std::vector<std::string>{"30", "4"}, {"40", "70", "9", "12"}}) {
    const size_t entry = survey.add_repeat("household", {});
    survey.set_answer("member_count", {entry}, std::to_string(each.size()));
    for (size_t member = 0; member < each.size(); ++member) survey.set_answer("age", {entry, member}, each[member]);
  }
  CHECK(survey.expand_references("children_note", {0}, children) == "This household has 1 children.");
  CHECK(survey.expand_references("children_note", {1}, children) == "This household has 2 children.");
}

TEST_CASE("forms fill: ${name} in a constraint message and a choice label shows the current answer") {
  outpost::test::TempDir dir("outpost-references");
  outpost::files::write_file_atomic(dir.file("settings.csv"), "form_id,version\nbudget,1\n");
  outpost::files::write_file_atomic(dir.file("survey.csv"),
                                    "type,name,label,constraint,constraint_message\n"
                                    "integer,budget,Budget\n"
                                    "integer,spent,Spent,. <= ${budget},Cannot be more than ${budget}.\n"
                                    "select_one ok,fine,Is ${spent} right?\n");
  outpost::files::write_file_atomic(dir.file("choices.csv"), "list_name,name,label\nok,yes,Yes: ${spent}\nok,no,No\n");
  const Form form = read_xlsform(dir.path());
  FillSession session(form, "", test_device());
  session.set_answer("budget", {}, "100");
  session.set_answer("spent", {}, "120");
  const auto error = session.check("spent", {});
  REQUIRE(error);
  CHECK(error->message == "Cannot be more than 100.");
  const Choice* yes = session.visible_choices("fine", {}).at(0);
  CHECK(session.expand_references("fine", {}, form.text(yes->label, kDefaultLanguageKey)) == "Yes: 120");
}

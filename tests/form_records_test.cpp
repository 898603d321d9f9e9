// Forms and submissions as records: the definition round trip, answers in and out of a fill
// session, and the CSV export of nested repeats.

#include "form_records/form_records.h"

#include <doctest/doctest.h>

#include <string>

#include "form_records/export.h"
#include "forms/xlsform_reader.h"

using namespace outpost;
using namespace outpost::form_records;
using outpost::forms::FillSession;

namespace {

const std::string kFixtures = OUTPOST_FORM_FIXTURES;

forms::Device test_device() {
  return forms::Device{"device-1", [] { return forms::LocalTime{1772352000000, 0}; }};
}

const Json kHouseholds = Json::parse(R"({
  "households_note": null,
  "household": [
    {"household_id": "HH-0001", "member_count": 2, "shelter_type": "tent", "rooms": 1,
     "member": [{"member_initials": "AB", "sex": "female", "age": 34},
                {"member_initials": "CD", "sex": "male", "age": 9, "in_school": "yes"}]},
    {"household_id": "HH-0002", "member_count": 1, "shelter_type": "house", "rooms": 3,
     "member": [{"member_initials": "EF", "sex": "female", "age": 71}]}
  ]
})");

}  // namespace

TEST_CASE("form records: a published definition rebuilds the same form") {
  const std::string path = kFixtures + "/household_members";
  const forms::Form form = forms::read_xlsform(path);
  const Json fields = form_version_fields(forms::read_xlsform_workbook(path), form);
  CHECK(form_version_id(form) == form.settings().form_id + "@" + form.settings().version);
  const forms::Form rebuilt = form_from_fields(Json::parse(fields.dump()));
  REQUIRE(rebuilt.questions().size() == form.questions().size());
  for (size_t i = 0; i < form.questions().size(); ++i) CHECK(rebuilt.questions()[i].name == form.questions()[i].name);
  CHECK_THROWS_AS(form_from_fields({{"definition", {{"sheets", 3}}}}), RecordError);
}

TEST_CASE("form records: answers go into a session as a person would give them, and come out the same") {
  const forms::Form form = forms::read_xlsform(kFixtures + "/household_members");
  FillSession session(form, "", test_device());
  Json answers = kHouseholds;
  answers.erase("households_note");
  apply_answers(session, answers);
  CHECK(session.validate().empty());
  const Json out = answers_json(session);
  CHECK(out.at("household").size() == 2);
  CHECK(out["household"][0]["member"][1]["in_school"] == "yes");
  CHECK(out["household"][0]["children_count"] == "1");
  CHECK(out["household_total"] == "2");
  CHECK(out["today"] == "2026-03-01");

  FillSession other(form, "", test_device());
  CHECK_THROWS_WITH_AS(apply_answers(other, kHouseholds), "households_note: the form has no such question",
                       RecordError);
  FillSession third(form, "", test_device());
  Json wrong_count = answers;
  wrong_count["household"][1]["member_count"] = 2;
  CHECK_THROWS_WITH_AS(apply_answers(third, wrong_count), "member: the form sets 2 entries, the answers give 1",
                       RecordError);
  FillSession fourth(form, "", test_device());
  CHECK_THROWS_WITH_AS(apply_answers(fourth, {{"household_total", "9"}}),
                       "household_total: household_total is a calculate, which takes no answer", RecordError);
}

TEST_CASE("form records: the export joins nested repeats to their parent rows") {
  const forms::Form form = forms::read_xlsform(kFixtures + "/household_members");
  FillSession session(form, "", test_device());
  Json answers = kHouseholds;
  answers.erase("households_note");
  apply_answers(session, answers);
  const Json fields = submission_fields({form.settings().form_id, form.settings().version, kFinalized,
                                         answers_json(session), 0, 1772352000000, "device-1", {}});
  const std::vector<ExportFile> files = export_submissions(form, {{"s1", fields}}, ExportFormat::csv);
  REQUIRE(files.size() == 3);
  const std::string id = form.settings().form_id;
  CHECK(files[1].name == id + "-household.csv");
  CHECK(files[2].name == id + "-member.csv");
  CHECK(files[2].text ==
        "_id,_parent_id,_index,member_initials,sex,age,in_school,is_child\r\n"
        "s1/household/1/member/1,s1/household/1,1,AB,female,34,,0\r\n"
        "s1/household/1/member/2,s1/household/1,2,CD,male,9,yes,1\r\n"
        "s1/household/2/member/1,s1/household/2,1,EF,female,71,,0\r\n");
  CHECK(files[0].text.find("s1,device-1,2026-03-01T08:00:00Z,2026-03-01,") != std::string::npos);
  CHECK(csv_line({"a,b", "say \"hi\"", "plain"}) == "\"a,b\",\"say \"\"hi\"\"\",plain\r\n");
}

// Forms of tests/fixtures/forms as the registry publishes them (docs/forms.md): the version
// record and the form's pointer to it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "form_records/form_records.h"
#include "forms/xlsform_reader.h"
#include "sync/replica.h"

namespace outpost::test {

// (record id, fields) of the `forms` collection.
inline std::vector<std::pair<std::string, form_records::Json>> form_fixture_records(const std::string& fixture) {
  const std::string path = std::string(OUTPOST_FORM_FIXTURES) + "/" + fixture;
  const forms::Form form = forms::read_xlsform(path);
  return {{form_records::form_version_id(form),
           form_records::form_version_fields(forms::read_xlsform_workbook(path), form)},
          {form.settings().form_id, form_records::latest_pointer_fields(form)}};
}

// Puts the form into a device's replica as a sync from the registry would.
inline void publish_form(sync::Replica& replica, const std::string& fixture) {
  for (const auto& [id, fields] : form_fixture_records(fixture))
    replica.put(form_records::kFormsCollection, id, fields);
}

}  // namespace outpost::test

// Reading XLSForms (the survey/choices/settings spreadsheets ODK and KoboToolbox use) into a Form,
// checking at read time everything that can be checked without evaluating an expression, so a
// form that would fail on a device is refused when it is published. Every error is a FormError
// naming the sheet, the row as the spreadsheet shows it and the column.
//
// Decisions where XLSForm tools differ:
// - A missing form_id falls back to the file name (as pyxform does), with characters other than
//   letters, digits, '_', '-' and '.' replaced by '_': "Rapid assessment.xlsx" -> "Rapid_assessment".
// - A missing form_title falls back to the form id; a missing version stays empty.
// - Question names follow the XML NCName rule (a letter of any script or '_' first, then letters,
//   digits, '_', '-', '.'; no ':'), and must be unique in the whole form, groups and repeats
//   included, so that ${name} always means one question.
// - Columns that change how a form behaves but are not supported (parameters, trigger, bind::*,
//   body::*, and the settings public_key and submission_url) are refused when they hold anything;
//   other unknown columns (Kobo's $kuid, media::image, notes to authors) are ignored.
// - `default` is a literal, checked against the question's type; defaults with ${...} are refused.
#pragma once

#include <string>
#include <string_view>

#include "forms/form.h"
#include "forms/sheet.h"

namespace outpost::forms {

// Reads an .xlsx file, or a directory holding survey.csv, choices.csv and settings.csv.
Form read_xlsform(const std::string& path);

// Reads an .xlsx held in memory; `file` names it in errors and gives the fallback form id.
Form read_xlsform_xlsx(std::string_view bytes, const std::string& file);

// The sheets of an .xlsx file or a CSV directory, unchecked: what a published form keeps so a
// device can build the same Form.
Workbook read_xlsform_workbook(const std::string& path);

// Builds and checks a form from sheets already read.
Form build_form(const Workbook& workbook);

}  // namespace outpost::forms

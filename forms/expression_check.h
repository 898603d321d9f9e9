// The publish-time check of a form's expressions, run by the XLSForm reader once the form is
// built: every expression parses, no repeated question is used as one value from outside its
// repeat, and calculations do not depend on themselves. The fill engine reuses the
// calculation order worked out here.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "forms/form.h"

namespace outpost::forms {

// Throws FormError (naming `file` and the expression's cell) for the first expression that does
// not parse, uses a repeated question as one value from outside its repeat, or is part of a
// cycle of calculations.
void check_expressions(const Form& form, const std::string& file);

// The questions with a calculation, each after every calculation it reads; throws FormError at a
// calculation cell when calculations depend on one another in a cycle.
std::vector<size_t> calculation_order(const Form& form, const std::string& file);

}  // namespace outpost::forms

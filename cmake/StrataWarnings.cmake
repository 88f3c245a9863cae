# Warnings for Strata's own targets: -Wall -Wextra -Wpedantic; errors when STRATA_WERROR is ON (CI).
add_library(strata_warnings INTERFACE)
target_compile_options(strata_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${STRATA_WERROR}>>:-Werror>)
if(STRATA_SANITIZE)
  target_compile_options(strata_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${STRATA_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
  target_link_options(strata_warnings INTERFACE -fsanitize=${STRATA_SANITIZE})
  # Tests that compare measured kernel times skip their timing checks: instrumented code runs
  # at its own, uneven speed (a sanitizer build checks memory and UB, not speed).
  target_compile_definitions(strata_warnings INTERFACE STRATA_SANITIZED=1)
endif()

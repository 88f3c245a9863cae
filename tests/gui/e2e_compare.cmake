# Predicted vs measured, end to end: `strata simulate --trace` and `strata exec --backend cpu
# --trace` of one scenario, then `strata-gui --screenshot --view compare` of the two timelines.
foreach(step IN ITEMS "simulate;${SCENARIO};--trace;${OUTDIR}/e2e-predicted.json"
                      "exec;${SCENARIO};--backend;cpu;--trace;${OUTDIR}/e2e-measured.json")
  execute_process(COMMAND ${STRATA} ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strata ${step}: exit ${rc}\n${out}\n${err}")
  endif()
endforeach()
execute_process(COMMAND ${GUI} --screenshot ${OUTDIR}/e2e-compare.png --view compare
                        ${OUTDIR}/e2e-predicted.json ${OUTDIR}/e2e-measured.json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS ${OUTDIR}/e2e-compare.png)
  message(FATAL_ERROR "strata-gui: exit ${rc}\n${out}\n${err}")
endif()
message(STATUS "compare screenshot: ${OUTDIR}/e2e-compare.png")

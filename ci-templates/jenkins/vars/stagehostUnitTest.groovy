// stagehostUnitTest(config: ...): the unit-test stage through the stagehost step; same arguments minus 'stage'.

def call(Map args = [:]) {
  return stagehost(args + [stage: 'unit-test'])
}

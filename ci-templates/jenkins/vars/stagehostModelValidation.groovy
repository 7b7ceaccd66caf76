// stagehostModelValidation(config: ...): the model-validation stage through the stagehost step; same arguments minus 'stage'.

def call(Map args = [:]) {
  return stagehost(args + [stage: 'model-validation'])
}

// groovy_parse.groovy: parses (never runs) every Groovy file given, as the syntax check of
// ci-templates/jenkins. Pipeline steps are resolved at run time, so parsing needs no stubs for
// them; only the @Library annotation of a Jenkinsfile must resolve at compile time.
import org.codehaus.groovy.control.CompilationFailedException

GroovyClassLoader loader = new GroovyClassLoader(this.class.classLoader)
loader.parseClass('@java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.SOURCE) ' +
                  '@interface Library { String[] value() }')
int failures = 0
args.each { path ->
  try {
    new GroovyShell(loader).parse(new File(path))
    println "ok      ${path}"
  } catch (CompilationFailedException e) {
    failures++
    System.err.println "FAILED  ${path}\n${e.message}"
  }
}
System.exit(failures == 0 ? 0 : 1)

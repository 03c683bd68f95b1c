package dev.opensandbox.it.docker;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every test of {@link BuiltInExecdDockerIT} again, on an image that has bash: the built-in
 * execd then runs commands (and session state) through {@code bash -c} instead of {@code sh -c},
 * which is what happens with most real images.
 */
class BuiltInExecdOnBashDockerIT extends BuiltInExecdDockerIT {

    static final String BASH_IMAGE = System.getenv()
        .getOrDefault("OPENSANDBOX_TEST_BASH_IMAGE", "opensandbox-test/busybox-bash:latest");

    @Override
    String image() {
        return BASH_IMAGE;
    }

    @Test
    void commandsRunInBash() {
        List<Event> events = command("{\"command\":\"a=(x y z); [[ ${#a[@]} -eq 3 ]] && echo bash ${BASH_VERSINFO[0]}\"}");
        assertEquals("bash 5\n", stdout(events));
    }

    @Test
    void aBashSessionKeepsDeclaredExportsAndItsDirectory() {
        Response created = execd("POST", "/session", "{}");
        assertEquals(200, created.status(), created.text());
        String run = "/session/" + created.json().path("session_id").asText() + "/run";

        assertEquals("", stdout(command(run, "{\"command\":\"declare -x LIST='a b'; cd /etc\"}")));
        assertEquals("/etc a b\n", stdout(command(run, "{\"command\":\"echo $(pwd) $LIST\"}")));
    }
}

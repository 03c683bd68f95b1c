package dev.opensandbox.server.execd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionsTest {

    private static final String ID = "0123456789abcdef0123456789abcdef";

    @Test
    void stateLivesInADirectoryNamedByTheServerMadeId() {
        assertEquals("/tmp/.opensandbox-execd/sessions/" + ID, Sessions.stateDir(ID));
        assertThrows(IllegalArgumentException.class, () -> Sessions.stateDir("../../etc"));
        assertThrows(IllegalArgumentException.class, () -> Sessions.stateDir("'; rm -rf / #"));
    }

    @Test
    void aRunRestoresStateThenRunsTheCommandAsWrittenWithTheSaveArmed() {
        String script = Sessions.script(ID, "cd /x && export A=1");

        assertTrue(script.endsWith("\ncd /x && export A=1\n"), "the user's command comes last, unchanged");
        int restore = script.indexOf(". \"$__osb_dir/env\"");
        int cd = script.indexOf("cd \"$__osb_cwd\"");
        int trap = script.indexOf("trap __osb_save EXIT");
        assertTrue(restore > 0 && restore < cd && cd < trap, script);
        assertTrue(script.contains("${" + Sessions.CWD_VARIABLE + ":-"), "a run's own cwd comes from the environment");
        assertTrue(script.contains("unset " + Sessions.CWD_VARIABLE), "and is not saved into the session");
    }
}

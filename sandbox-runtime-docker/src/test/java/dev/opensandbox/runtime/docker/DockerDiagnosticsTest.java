package dev.opensandbox.runtime.docker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerDiagnosticsTest {

    private static InspectContainerResponse inspect(String json) throws Exception {
        return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .readValue(json, InspectContainerResponse.class);
    }

    private static final String EXITED = """
        {"Id":"0123456789abcdef0123","Name":"/sandbox-x","Created":"2026-12-07T00:00:00Z",
         "Config":{"Image":"busybox","Labels":{"z":"last","opensandbox.io/egress-auth-token":"tok-123","a":"first"},
                   "Env":["API_TOKEN=s3cret","PLAIN=visible","DB_PASSWORD=","EMPTY","PATH=/bin","MY_PASSWD=hunter2",
                          "GH_PAT=ghp_1","DATABASE_URL=postgres://u:p@db/x","CREDENTIALS=c"]},
         "HostConfig":{"NanoCpus":500000000,"Memory":67108864},
         "State":{"Status":"exited","Running":false,"Paused":false,"OOMKilled":true,"ExitCode":137,
                  "Error":"","StartedAt":"2026-12-07T00:00:01Z","FinishedAt":"2026-12-07T00:05:00Z"},
         "NetworkSettings":{"Networks":{"bridge":{"IPAddress":"172.17.0.3"}},
                            "Ports":{"44772/tcp":[{"HostIp":"127.0.0.1","HostPort":"32768"}],"8080/tcp":null}}}
        """;

    @Test
    void theDescriptionMasksSecretLabelsAndEveryEnvironmentValueNotAllowListed() throws Exception {
        String text = DockerDiagnostics.describe(inspect(EXITED), Set.of("PATH", "PLAIN"));

        assertTrue(text.startsWith("Container: 0123456789ab\nName: sandbox-x\nImage: busybox\n"), text);
        assertTrue(text.contains("Resources: cpu 0.5 cores, memory 64 MiB"), text);
        assertTrue(text.contains("  bridge: 172.17.0.3"), text);
        assertTrue(text.contains("  44772/tcp -> 127.0.0.1:32768"), text);
        assertTrue(text.contains("  API_TOKEN=***\n"), text);
        assertTrue(text.contains("  PLAIN=visible\n") && text.contains("  PATH=/bin\n"), "allow-listed: " + text);
        for (String secret : List.of("MY_PASSWD", "GH_PAT", "DATABASE_URL", "CREDENTIALS")) {
            assertTrue(text.contains("  " + secret + "=***\n"), secret + " masked though no heuristic knows it: " + text);
        }
        assertFalse(text.contains("hunter2") || text.contains("ghp_1") || text.contains("u:p@") || text.contains("=c\n"),
            text);
        assertTrue(text.contains("  DB_PASSWORD=\n"), "an empty secret stays visibly empty: " + text);
        assertTrue(text.contains("  opensandbox.io/egress-auth-token=***\n"), text);
        assertFalse(text.contains("s3cret") || text.contains("tok-123"), text);
        assertTrue(text.indexOf("  a=first") < text.indexOf("  opensandbox.io/") && text.indexOf("  opensandbox.io/")
            < text.indexOf("  z=last"), "labels sorted: " + text);
    }

    @Test
    void eventsAreSynthesizedFromTheStateAndLimitedToTheNewest() throws Exception {
        List<String> events = DockerDiagnostics.events(inspect(EXITED), 50);

        assertEquals(List.of("2026-12-07T00:00:00Z Created", "2026-12-07T00:00:01Z Started",
            "2026-12-07T00:05:00Z Finished (exit code 137)",
            "2026-12-07T00:05:00Z OOMKilled: the container ran out of memory"), events);
        assertEquals(events.subList(2, 4), DockerDiagnostics.events(inspect(EXITED), 2));
    }

    @Test
    void aRunningContainerHasNoFinishEventAndUnboundPortsSaySo() throws Exception {
        InspectContainerResponse running = inspect("""
            {"Id":"abc","Name":"/s","Created":"2026-12-07T00:00:00Z","Config":{"Image":"i"},
             "State":{"Status":"running","Running":true,"StartedAt":"2026-12-07T00:00:01Z",
                      "FinishedAt":"0001-01-01T00:00:00Z"},"NetworkSettings":{}}
            """);
        assertEquals(List.of("2026-12-07T00:00:00Z Created", "2026-12-07T00:00:01Z Started"),
            DockerDiagnostics.events(running, 50));
        String text = DockerDiagnostics.describe(running, Set.of());
        assertTrue(text.contains("Ports:\n  (not bound)\n"), text);
        assertTrue(text.contains("Labels:\n  (none)\n") && text.contains("Env:\n  (none)\n"), text);
        assertTrue(text.contains("Resources: cpu unlimited, memory unlimited") || text.contains("Resources: (unknown)"), text);
    }
}

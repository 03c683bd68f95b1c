package dev.opensandbox.server.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.opensandbox.core.Pool;
import dev.opensandbox.core.service.PoolService;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;

import java.util.List;
import java.util.Map;

/**
 * The pools API ({@code /pools} at {@code /} and {@code /v1}, in no upstream spec): create (201),
 * list ({@code {items}}, no pagination), get, replace the capacity (PUT), delete (204), over
 * {@link PoolService}. On a runtime without pools every route answers 501
 * {@code KUBERNETES::POOL_NOT_SUPPORTED} before reading the request (upstream validates the body
 * first; a 422 would only hide that there is nothing to serve).
 */
final class PoolRoutes {

    private static final TypeReference<Map<String, Object>> TEMPLATE = new TypeReference<>() {
    };

    private final PoolService pools;
    private final ObjectMapper mapper;

    PoolRoutes(PoolService pools, ObjectMapper mapper) {
        this.pools = pools;
        this.mapper = mapper;
    }

    void register(ApiServer api) {
        api.route(HandlerType.POST, "/pools", ctx -> {
            pools.requireSupported();
            JsonObject json = JsonObject.of(api.body(ctx), "body");
            String name = json.requiredString("name");
            Map<String, Object> template = template(json);
            Pool.Capacity capacity = capacity(json);
            api.async(ctx, () -> pools.create(name, template, capacity), (c, pool) -> c.status(201).json(PoolBody.of(pool)));
        });
        api.route(HandlerType.GET, "/pools", ctx -> {
            pools.requireSupported();
            api.async(ctx, pools::list, (c, list) -> c.json(new ListBody(list.stream().map(PoolBody::of).toList())));
        });
        api.route(HandlerType.GET, "/pools/{poolName}", ctx -> {
            pools.requireSupported();
            String name = ctx.pathParam("poolName");
            api.async(ctx, () -> pools.get(name), (c, pool) -> c.json(PoolBody.of(pool)));
        });
        api.route(HandlerType.PUT, "/pools/{poolName}", ctx -> {
            pools.requireSupported();
            String name = ctx.pathParam("poolName");
            Pool.Capacity capacity = capacity(JsonObject.of(api.body(ctx), "body"));
            api.async(ctx, () -> pools.updateCapacity(name, capacity), (c, pool) -> c.json(PoolBody.of(pool)));
        });
        api.route(HandlerType.DELETE, "/pools/{poolName}", ctx -> {
            pools.requireSupported();
            String name = ctx.pathParam("poolName");
            api.run(ctx, () -> pools.delete(name), ApiServer::noContent);
        });
    }

    private Map<String, Object> template(JsonObject json) {
        JsonNode node = json.field("template");
        if (node == null) {
            throw JsonObject.invalid(json.at("template"), "Field required");
        }
        if (!node.isObject()) {
            throw JsonObject.invalid(json.at("template"), "Input should be a valid dictionary");
        }
        return mapper.convertValue(node, TEMPLATE);
    }

    private static Pool.Capacity capacity(JsonObject body) {
        JsonObject spec = body.object("capacitySpec");
        if (spec == null) {
            throw JsonObject.invalid(body.at("capacitySpec"), "Field required");
        }
        return new Pool.Capacity(int32(spec, "bufferMax"), int32(spec, "bufferMin"), int32(spec, "poolMax"),
            int32(spec, "poolMin"));
    }

    /** A required int32 (the CRD's type); the rule "at least 0" is the core's. */
    private static int int32(JsonObject json, String name) {
        Long value = json.integer(name);
        if (value == null) {
            throw JsonObject.invalid(json.at(name), "Field required");
        }
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw JsonObject.invalid(json.at(name), "Input should be a valid 32-bit integer");
        }
        return value.intValue();
    }

    // ------------------------------------------------------------ response shapes

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record PoolBody(String name, CapacityBody capacitySpec, StatusBody status, String createdAt) {
        static PoolBody of(Pool pool) {
            Pool.Capacity c = pool.capacity();
            Pool.Status s = pool.status();
            return new PoolBody(pool.name(), new CapacityBody(c.bufferMax(), c.bufferMin(), c.poolMax(), c.poolMin()),
                s == null ? null : new StatusBody(s.total(), s.allocated(), s.available(), s.revision()),
                Times.format(pool.createdAt()));
        }
    }

    record CapacityBody(int bufferMax, int bufferMin, int poolMax, int poolMin) {
    }

    record StatusBody(int total, int allocated, int available, String revision) {
    }

    record ListBody(List<PoolBody> items) {
    }
}

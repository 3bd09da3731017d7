//! The RPC facts: from each method's `(panelgate.v1.rpc)` option, the table
//! `RPCS` and an `Rpc` impl per request message.

use std::{collections::HashSet, fmt::Write};

use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor, Value};

use crate::names::{message_path, upper_camel};

/// The generated `RPCS` table and `Rpc` impls.
pub fn generate(pool: &DescriptorPool) -> Result<String, String> {
    let extension = pool
        .get_extension_by_name("panelgate.v1.rpc")
        .ok_or("panelgate/v1/rpc.proto must declare the `rpc` method option")?;
    let mut table = String::from(
        "/// Every RPC of `panelgate.v1`, with what its `(rpc)` option declares.\n\
         pub const RPCS: &[RpcFacts] = &[\n",
    );
    let mut impls = String::new();
    let mut requests = HashSet::new();
    let methods = pool
        .services()
        .filter(|service| service.package_name() == "panelgate.v1")
        .flat_map(|service| service.methods().collect::<Vec<_>>());
    for (index, method) in methods.enumerate() {
        let options = method.options();
        if !options.has_extension(&extension) {
            return Err(format!(
                "rpc {} has no `option (rpc)`: declare its scope (and capability, journalled)",
                method.full_name()
            ));
        }
        let Value::Message(facts) = options.get_extension(&extension).into_owned() else {
            return Err(format!(
                "rpc {}: `rpc` is not a message",
                method.full_name()
            ));
        };
        let input = method.input();
        if !requests.insert(input.full_name().to_owned()) {
            return Err(format!(
                "{} is the request of two RPCs: each RPC has its own",
                input.full_name()
            ));
        }
        writeln!(table, "    {},", row(&method, &facts)?).expect("writing to a String");
        impls.push_str(&rpc_impl(index, &method));
    }
    table.push_str("];\n\n");
    Ok(table + &impls)
}

/// One `RpcFacts` literal.
fn row(method: &MethodDescriptor, facts: &DynamicMessage) -> Result<String, String> {
    let scope = match facts.get_field_by_name("scope").as_deref() {
        Some(Value::String(scope)) if !scope.is_empty() => scope.clone(),
        _ => return Err(format!("rpc {} declares no scope", method.full_name())),
    };
    let capability = match facts.get_field_by_name("capability").as_deref() {
        Some(Value::EnumNumber(0)) | None => "None".to_owned(),
        Some(Value::EnumNumber(number)) => {
            let operation = method
                .parent_pool()
                .get_enum_by_name("panelgate.v1.Operation")
                .and_then(|operation| operation.get_value(*number))
                .ok_or_else(|| format!("rpc {}: unknown capability", method.full_name()))?;
            let name = operation.name().trim_start_matches("OPERATION_");
            format!("Some(Capability::{})", upper_camel(name))
        }
        Some(_) => {
            return Err(format!(
                "rpc {}: capability is not an enum",
                method.full_name()
            ));
        }
    };
    let journalled = matches!(
        facts.get_field_by_name("journalled").as_deref(),
        Some(Value::Bool(true))
    );
    Ok(format!(
        "RpcFacts {{ path: \"/{}/{}\", scope: {scope:?}, capability: {capability}, journalled: {journalled} }}",
        method.parent_service().full_name(),
        method.name(),
    ))
}

/// The `Rpc` impl of one RPC's request message.
fn rpc_impl(index: usize, method: &MethodDescriptor) -> String {
    let input = method.input();
    let output = method.output();
    let has = |message: &MessageDescriptor, name: &str| message.get_field_by_name(name).is_some();
    let request_id = if has(&input, "request_id") {
        "&self.request_id"
    } else {
        "\"\""
    };
    let validate_only = if has(&input, "validate_only") {
        "self.validate_only"
    } else {
        "false"
    };
    let reply = message_path(&output);
    let checked = if has(&output, "validation") {
        format!("{reply} {{ validation: Some(validation), ..Default::default() }}")
    } else {
        // Never asked: a request without validate_only is never only checked.
        format!("{{ let _ = validation; {reply}::default() }}")
    };
    format!(
        "impl Rpc for {request} {{\n    type Reply = {reply};\n    const FACTS: &'static RpcFacts = &RPCS[{index}];\n    \
         fn request_id(&self) -> &str {{ {request_id} }}\n    \
         fn validate_only(&self) -> bool {{ {validate_only} }}\n    \
         fn checked(validation: v1::Validation) -> Self::Reply {{ {checked} }}\n}}\n\n",
        request = message_path(&input),
    )
}

/// A `PanelOptions` impl for every `panel_options` oneof: its fields are
/// named for the panel kinds they are for.
pub fn panel_options(pool: &DescriptorPool) -> String {
    let mut out = String::new();
    for message in pool
        .all_messages()
        .filter(|message| message.package_name() == "panelgate.v1")
    {
        let Some(oneof) = message
            .oneofs()
            .find(|oneof| oneof.name() == "panel_options" && !oneof.is_synthetic())
        else {
            continue;
        };
        let arms: String = oneof
            .fields()
            .map(|field| {
                let kind = upper_camel(field.name());
                format!("            Self::{kind}(_) => v1::PanelKind::{kind},\n")
            })
            .collect();
        write!(
            out,
            "impl PanelOptions for {}::PanelOptions {{\n    fn panel_kind(&self) -> v1::PanelKind {{\n        match self {{\n{arms}        }}\n    }}\n}}\n\n",
            crate::names::module_of(&message)
        ).expect("writing to a String");
    }
    out
}

//! The include file (`Builder::include_file`): one `pub mod` per package
//! segment, nested, around an `include!` of each package's file, so that a
//! crate writes one line instead of the module tree of deep packages such
//! as `acme.platform.inventory.v1`.

use std::collections::BTreeMap;

use prost_build::Module;

/// A module of the tree: the file it includes, if a package ends here, and
/// its child modules by Rust name.
#[derive(Default)]
struct Node {
    file: Option<String>,
    children: BTreeMap<String, Node>,
}

/// The include file for these packages, each as its Rust module path
/// (prost-build's, keywords already raw: `my::r#type::v1`) and the name of
/// its generated file.
pub(crate) fn render(packages: &[(&Module, String)]) -> String {
    let mut root = Node::default();
    for (module, file) in packages {
        let mut node = &mut root;
        for part in module.parts() {
            node = node.children.entry(part.to_owned()).or_default();
        }
        node.file = Some(file.clone());
    }
    let mut out = String::new();
    write_node(&root, 0, &mut out);
    out
}

fn write_node(node: &Node, depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    if let Some(file) = &node.file {
        // Relative to this file, which sits next to the generated ones.
        out.push_str(&format!("{indent}include!(\"{file}\");\n"));
    }
    for (name, child) in &node.children {
        out.push_str(&format!("{indent}pub mod {name} {{\n"));
        write_node(child, depth + 1, out);
        out.push_str(&format!("{indent}}}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_nest_and_keywords_stay_raw() {
        let outer = Module::from_protobuf_package_name("my.type");
        let inner = Module::from_protobuf_package_name("my.type.v1");
        let text = render(&[
            (&outer, "my.type.rs".to_owned()),
            (&inner, "my.type.v1.rs".to_owned()),
        ]);
        assert_eq!(
            text,
            "pub mod my {\n    pub mod r#type {\n        include!(\"my.type.rs\");\n        \
             pub mod v1 {\n            include!(\"my.type.v1.rs\");\n        }\n    }\n}\n"
        );
    }
}

//! Every naming rule of SPEC section 3 in one place: types, fields, tables, columns.

/// `publishedAt` → `published_at`; `BlogPost` → `blog_post`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `BlogPost` → `blogPost`.
pub fn lower_first(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `blogPost` → `BlogPost`.
pub fn upper_first(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// English plural of a word or PascalCase/camelCase name (only the last word changes).
pub fn plural(name: &str) -> String {
    const IRREGULAR: &[(&str, &str)] = &[
        ("person", "people"),
        ("man", "men"),
        ("woman", "women"),
        ("child", "children"),
        ("mouse", "mice"),
        ("goose", "geese"),
        ("foot", "feet"),
        ("tooth", "teeth"),
        ("ox", "oxen"),
        ("datum", "data"),
        ("medium", "media"),
        ("index", "indices"),
        ("matrix", "matrices"),
        ("vertex", "vertices"),
        ("criterion", "criteria"),
        ("analysis", "analyses"),
        ("leaf", "leaves"),
        ("life", "lives"),
        ("knife", "knives"),
        ("wife", "wives"),
        ("half", "halves"),
        ("shelf", "shelves"),
    ];
    const UNCOUNTABLE: &[&str] = &[
        "data",
        "info",
        "information",
        "media",
        "news",
        "series",
        "species",
        "sheep",
        "fish",
        "deer",
        "equipment",
        "metadata",
        "feedback",
        "software",
        "settings",
    ];
    // Split off the last word of a camel/Pascal name.
    let split = name.char_indices().rev().find(|(_, c)| c.is_uppercase()).map(|(i, _)| i).unwrap_or(0);
    let (head, last) = name.split_at(split);
    let lower = last.to_lowercase();
    let keep_case = |word: &str| -> String {
        if last.chars().next().is_some_and(|c| c.is_uppercase()) { upper_first(word) } else { word.to_string() }
    };
    if UNCOUNTABLE.contains(&lower.as_str()) {
        return name.to_string();
    }
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == lower) {
        return format!("{head}{}", keep_case(p));
    }
    let ends = |s: &str| lower.ends_with(s);
    let stem = &last[..last.len()];
    let out = if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") {
        format!("{stem}es")
    } else if ends("y") && !lower.ends_with("ay") && !ends("ey") && !ends("oy") && !ends("uy") {
        format!("{}ies", &stem[..stem.len() - 1])
    } else {
        format!("{stem}s")
    };
    format!("{head}{out}")
}

/// SQL table of a model: `BlogPost` → `blog_posts`.
pub fn table_name(model: &str) -> String {
    snake_case(&plural(model))
}

/// SQL column of a field: `publishedAt` → `published_at`.
pub fn column_name(field: &str) -> String {
    snake_case(field)
}

/// The id field of a belongsTo relation: `author` → `authorId`.
pub fn fk_field(relation: &str) -> String {
    format!("{relation}Id")
}

/// The filter input of a model, an enum or a built-in scalar: `Post` → `PostFilter`,
/// `Status` → `StatusFilter`, `ID` → `IDFilter`.
pub fn filter_type(name: &str) -> String {
    format!("{name}Filter")
}

/// The filter on a model's related rows (a `@hasMany`): `Post` → `PostListFilter`.
pub fn list_filter_type(model: &str) -> String {
    format!("{model}ListFilter")
}

/// A sort key of a model's lists: `Post` → `PostOrderBy`.
pub fn order_by_type(model: &str) -> String {
    format!("{model}OrderBy")
}

/// A page of a model's rows: `Post` → `PostConnection`.
pub fn connection_type(model: &str) -> String {
    format!("{model}Connection")
}

/// One row of a page: `Post` → `PostEdge`.
pub fn edge_type(model: &str) -> String {
    format!("{model}Edge")
}

/// The input of the create mutation: `Post` → `CreatePostInput`.
pub fn create_input_type(model: &str) -> String {
    format!("Create{model}Input")
}

/// The input of the update mutation: `Post` → `UpdatePostInput`.
pub fn update_input_type(model: &str) -> String {
    format!("Update{model}Input")
}

/// Every type name the API generates for a model, in the order it lists them.
pub fn model_types(model: &str) -> [String; 7] {
    [
        connection_type(model),
        edge_type(model),
        filter_type(model),
        list_filter_type(model),
        order_by_type(model),
        create_input_type(model),
        update_input_type(model),
    ]
}

/// The create mutation: `BlogPost` → `createBlogPost`.
pub fn create_mutation(model: &str) -> String {
    format!("create{model}")
}

/// The update mutation: `BlogPost` → `updateBlogPost`.
pub fn update_mutation(model: &str) -> String {
    format!("update{model}")
}

/// The delete mutation: `BlogPost` → `deleteBlogPost`.
pub fn delete_mutation(model: &str) -> String {
    format!("delete{model}")
}

/// The subscription to created rows: `BlogPost` → `blogPostCreated`.
pub fn created_field(model: &str) -> String {
    format!("{}Created", lower_first(model))
}

/// The subscription to updated rows: `BlogPost` → `blogPostUpdated`.
pub fn updated_field(model: &str) -> String {
    format!("{}Updated", lower_first(model))
}

/// The subscription to deleted rows: `BlogPost` → `blogPostDeleted`.
pub fn deleted_field(model: &str) -> String {
    format!("{}Deleted", lower_first(model))
}

/// SCREAMING_CASE check for enum values.
pub fn is_screaming_case(v: &str) -> bool {
    v.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && v.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        for (s, p) in [
            ("Post", "Posts"),
            ("Category", "Categories"),
            ("Day", "Days"),
            ("Box", "Boxes"),
            ("Person", "People"),
            ("BlogPost", "BlogPosts"),
            ("Address", "Addresses"),
            ("Match", "Matches"),
            ("post", "posts"),
            ("NewsItem", "NewsItems"),
            ("Media", "Media"),
        ] {
            assert_eq!(plural(s), p, "{s}");
        }
    }

    #[test]
    fn snake() {
        assert_eq!(snake_case("publishedAt"), "published_at");
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("authorId"), "author_id");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(table_name("Category"), "categories");
    }

    #[test]
    fn generated_type_names() {
        assert_eq!(filter_type("Post"), "PostFilter");
        assert_eq!(filter_type("Status"), "StatusFilter");
        assert_eq!(filter_type("ID"), "IDFilter");
        assert_eq!(list_filter_type("BlogPost"), "BlogPostListFilter");
        assert_eq!(order_by_type("BlogPost"), "BlogPostOrderBy");
        assert_eq!(connection_type("BlogPost"), "BlogPostConnection");
        assert_eq!(edge_type("BlogPost"), "BlogPostEdge");
        assert_eq!(create_input_type("BlogPost"), "CreateBlogPostInput");
        assert_eq!(update_input_type("BlogPost"), "UpdateBlogPostInput");
        assert_eq!(
            model_types("Post"),
            [
                "PostConnection",
                "PostEdge",
                "PostFilter",
                "PostListFilter",
                "PostOrderBy",
                "CreatePostInput",
                "UpdatePostInput"
            ]
        );
    }

    #[test]
    fn generated_field_names() {
        assert_eq!(create_mutation("BlogPost"), "createBlogPost");
        assert_eq!(update_mutation("BlogPost"), "updateBlogPost");
        assert_eq!(delete_mutation("BlogPost"), "deleteBlogPost");
        assert_eq!(created_field("Post"), "postCreated");
        assert_eq!(updated_field("Post"), "postUpdated");
        assert_eq!(deleted_field("Post"), "postDeleted");
        assert_eq!(created_field("BlogPost"), "blogPostCreated");
        assert_eq!(updated_field("BlogPost"), "blogPostUpdated");
        assert_eq!(deleted_field("BlogPost"), "blogPostDeleted");
    }
}

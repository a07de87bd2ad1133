// @generated automatically by Diesel CLI.

diesel::table! {
    oauth_connections (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        provider -> Text,
        provider_id -> Text,
        access_token -> Nullable<Text>,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        username -> Text,
        display_name -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        github_username -> Nullable<Text>,
        email_verified -> Nullable<Bool>,
        role -> Nullable<Text>,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(oauth_connections -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(oauth_connections, users,);

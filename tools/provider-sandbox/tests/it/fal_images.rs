//! What the pictures show: sizes in every form Fal takes, prompts that look different, Cyrillic lettering,
//! formats and seeds, edits of real photos (data URIs and http URLs), face swaps and upscales.

use image::{GenericImageView, ImageFormat};
use provider_sandbox::Config;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, data_uri, jpeg_fixture, mean_abs_diff, mean_rgb, sharp_edges};

const CANON: &str = "images/canon-40d.jpg";
const LANDSCAPE: &str = "images/orientation/landscape_1.jpg";

#[tokio::test]
async fn every_size_form_gives_that_size() {
    let app = TestApp::spawn().await;
    let prompt = "a red fox in fresh snow";
    for (options, size) in [
        (json!({}), (1024, 1024)),
        (json!({"image_size": "landscape_16_9"}), (1024, 576)),
        (json!({"image_size": "portrait_4_3"}), (768, 1024)),
        (
            json!({"image_size": {"width": 640, "height": 360}}),
            (640, 360),
        ),
        (
            json!({"aspect_ratio": "9:16", "resolution": "1K"}),
            (576, 1024),
        ),
        (json!({"aspect_ratio": "4:3"}), (1024, 768)),
    ] {
        let mut body = options.clone();
        body["prompt"] = json!(prompt);
        let result = app.generate("fal-ai/nano-banana-pro", &body).await;
        let image = &result["images"][0];
        assert_eq!(
            (image["width"].clone(), image["height"].clone()),
            (json!(size.0), json!(size.1)),
            "{options}"
        );
        assert_eq!(image["content_type"], "image/png");
        assert!(image["file_name"].as_str().unwrap().ends_with(".png"));
        assert_eq!(result["description"], "");
        let picture = app.download(image).await;
        assert_eq!(picture.dimensions(), size, "{options}");
    }
}

#[tokio::test]
async fn different_prompts_look_different_and_seeds_are_echoed() {
    let app = TestApp::spawn().await;
    let size = json!({"width": 256, "height": 256});
    let fox = app
        .generate(
            "fal-ai/flux/dev",
            &json!({"prompt": "a red fox", "image_size": size, "seed": 7}),
        )
        .await;
    assert_eq!(fox["seed"], 7);
    let whale = app
        .generate_image(
            "fal-ai/flux/dev",
            &json!({"prompt": "a blue whale", "image_size": size, "seed": 7}),
        )
        .await;
    let fox = app.download(&fox["images"][0]).await;
    let (a, b) = (mean_rgb(&fox), mean_rgb(&whale));
    let distance: f64 = (0..3).map(|c| (a[c] - b[c]).abs()).sum();
    assert!(
        distance > 20.0,
        "mean colours {a:?} and {b:?} are too close"
    );

    // The same prompt with another seed: same colours, another angle, so the pictures differ.
    let turned = app
        .generate_image(
            "fal-ai/flux/dev",
            &json!({"prompt": "a red fox", "image_size": size, "seed": 97}),
        )
        .await;
    assert!(mean_abs_diff(&fox, &turned) > 5.0);
}

#[tokio::test]
async fn a_cyrillic_prompt_is_lettered() {
    let app = TestApp::spawn().await;
    let picture = app
        .generate_image(
            "fal-ai/nano-banana-pro",
            &json!({"prompt": "Кот в космосе", "image_size": "square", "negative_prompt": "blur",
                    "num_inference_steps": 28, "guidance_scale": 3.5}),
        )
        .await;
    // The lettering is in the middle; the footer is at the bottom and left out here.
    let edges = sharp_edges(&picture, (0, 100, 512, 400));
    assert!(edges > 300, "only {edges} sharp edges: no lettering?");
}

#[tokio::test]
async fn several_images_in_each_output_format() {
    let app = TestApp::spawn().await;
    let result = app
        .generate(
            "fal-ai/flux/dev",
            &json!({"prompt": "a kite", "image_size": "square", "num_images": 3, "output_format": "jpeg"}),
        )
        .await;
    let images = result["images"].as_array().unwrap();
    assert_eq!(images.len(), 3);
    let mut urls: Vec<&str> = images.iter().map(|i| i["url"].as_str().unwrap()).collect();
    urls.dedup();
    assert_eq!(urls.len(), 3);
    for image in images {
        assert_eq!(image["content_type"], "image/jpeg");
        let bytes = app
            .http
            .get(image["url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(image::guess_format(&bytes).unwrap(), ImageFormat::Jpeg);
    }
    let webp = app
        .generate(
            "fal-ai/flux/dev",
            &json!({"prompt": "a kite", "image_size": "square", "output_format": "webp"}),
        )
        .await;
    assert_eq!(webp["images"][0]["content_type"], "image/webp");
    assert_eq!(
        app.download(&webp["images"][0]).await.dimensions(),
        (512, 512)
    );
}

#[tokio::test]
async fn an_edit_keeps_the_input_size_and_visibly_changes_it() {
    let app = TestApp::spawn().await;
    let input = image::load_from_memory(&crate::helpers::fixture(CANON)).unwrap();
    let edited = app
        .generate_image(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "make it look like winter", "image_urls": [jpeg_fixture(CANON)]}),
        )
        .await;
    assert_eq!(edited.dimensions(), input.dimensions());
    let diff = mean_abs_diff(&edited, &input);
    assert!(diff > 10.0, "the edit is too subtle: {diff}");

    // `image_url` (one input) and an aspect ratio.
    let square = app
        .generate_image(
            "fal-ai/flux-kontext/dev",
            &json!({"prompt": "add a hat", "image_url": jpeg_fixture(LANDSCAPE), "aspect_ratio": "1:1"}),
        )
        .await;
    assert_eq!(square.dimensions(), (1024, 1024));
}

#[tokio::test]
async fn an_edit_of_several_inputs_shows_the_others_as_thumbnails() {
    let app = TestApp::spawn().await;
    let single = app
        .generate_image(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "merge them", "image_urls": [jpeg_fixture(LANDSCAPE)]}),
        )
        .await;
    let double = app
        .generate_image(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "merge them", "image_urls": [jpeg_fixture(LANDSCAPE), jpeg_fixture(CANON)]}),
        )
        .await;
    assert_eq!(double.dimensions(), (600, 450));
    // The top left corner holds the thumbnail; the rest is the same picture.
    let band = |image: &image::DynamicImage| image.crop_imm(0, 0, 140, 100);
    let rest = |image: &image::DynamicImage| image.crop_imm(0, 150, 600, 150);
    assert!(mean_abs_diff(&band(&single), &band(&double)) > 10.0);
    assert!(mean_abs_diff(&rest(&single), &rest(&double)) < 1.0);
}

#[tokio::test]
async fn inputs_come_from_http_urls_too() {
    let source = TestApp::spawn().await;
    let generated = source
        .generate(
            "fal-ai/flux/dev",
            &json!({"prompt": "a tree", "image_size": {"width": 320, "height": 200}}),
        )
        .await;
    let url = generated["images"][0]["url"].as_str().unwrap();
    // A second sandbox fetches it over HTTP.
    let app = TestApp::spawn().await;
    let edited = app
        .generate_image(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "autumn", "image_urls": [url]}),
        )
        .await;
    assert_eq!(edited.dimensions(), (320, 200));
}

#[tokio::test]
async fn inputs_that_are_not_images_fail_the_request() {
    let app = TestApp::spawn().await;
    let (status, answer) = app
        .outcome(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "x", "image_urls": [data_uri(b"not an image at all", "image/png")]}),
        )
        .await;
    assert_eq!(status["error_type"], "image_load_error");
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.body["detail"][0]["type"], "image_load_error");
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "image_urls"])
    );

    let missing = app.url("/files/missing.png");
    let (status, answer) = app
        .outcome(
            "fal-ai/nano-banana/edit",
            &json!({"prompt": "x", "image_url": missing}),
        )
        .await;
    assert_eq!(status["error_type"], "file_download_error");
    assert_eq!(
        answer.body["detail"][0]["loc"],
        json!(["body", "image_url"])
    );
    let stats = app.client.stats().await.unwrap();
    assert_eq!(stats.model("fal-ai/nano-banana/edit").failed, 2);
}

#[tokio::test]
async fn a_face_swap_differs_from_both_inputs() {
    let app = TestApp::spawn().await;
    let base = image::load_from_memory(&crate::helpers::fixture(LANDSCAPE)).unwrap();
    let swap = image::load_from_memory(&crate::helpers::fixture(CANON)).unwrap();
    let result = app
        .generate(
            "fal-ai/face-swap",
            &json!({"base_image_url": jpeg_fixture(LANDSCAPE), "swap_image_url": jpeg_fixture(CANON)}),
        )
        .await;
    assert_eq!(result["images"][0]["content_type"], "image/png");
    let swapped = app.download(&result["images"][0]).await;
    assert_eq!(swapped.dimensions(), base.dimensions());
    let middle = |image: &image::DynamicImage| image.crop_imm(200, 125, 200, 200);
    assert!(mean_abs_diff(&middle(&swapped), &middle(&base)) > 10.0);
    // Outside the ellipse the base is untouched.
    let corner = |image: &image::DynamicImage| image.crop_imm(0, 0, 100, 100);
    assert!(mean_abs_diff(&corner(&swapped), &corner(&base)) < 2.0);
    let swap_fitted = swap.resize_exact(600, 450, image::imageops::FilterType::Triangle);
    assert!(mean_abs_diff(&swapped, &swap_fitted) > 10.0);

    let (status, answer) = app
        .submit(
            "fal-ai/face-swap",
            &json!({"base_image_url": jpeg_fixture(LANDSCAPE)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["detail"][0]["loc"],
        json!(["body", "swap_image_url"])
    );
}

#[tokio::test]
async fn upscales_multiply_the_sides_up_to_8192() {
    let app = TestApp::spawn().await;
    let doubled = app
        .generate_image(
            "fal-ai/esrgan",
            &json!({"image_url": jpeg_fixture(CANON), "scale": 2}),
        )
        .await;
    assert_eq!(doubled.dimensions(), (200, 136));
    let quadrupled = app
        .generate_image(
            "fal-ai/clarity-upscaler",
            &json!({"image_url": jpeg_fixture(CANON), "upscale_factor": 4}),
        )
        .await;
    assert_eq!(quadrupled.dimensions(), (400, 272));

    let (status, answer) = app
        .outcome(
            "fal-ai/esrgan",
            &json!({"image_url": jpeg_fixture("images/nokia-8.3-4608x1976.jpg"), "scale": 2}),
        )
        .await;
    assert_eq!(status["error_type"], "image_too_large");
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn image_urls_use_the_public_url() {
    let app = TestApp::spawn_with(Config {
        public_url: Some("http://sandbox.invalid:9999/".to_owned()),
        ..Config::for_tests()
    })
    .await;
    assert_eq!(app.sandbox.base_url(), "http://sandbox.invalid:9999");
    let (status, answer) = app.submit("fal-ai/flux/dev", &json!({"prompt": "x"})).await;
    assert_eq!(status, StatusCode::OK);
    let url = answer["status_url"].as_str().unwrap();
    assert!(
        url.starts_with("http://sandbox.invalid:9999/fal-ai/flux/requests/"),
        "{url}"
    );
}

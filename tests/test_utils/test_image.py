"""mmdropmae.utils.image: the RGB loader and the tracking crop geometry."""
import numpy as np
import pytest

from mmdropmae.utils.image import (crop_size_of, crop_valid_region, image_size, load_rgb_image,
                                   sample_target, transform_box_to_crop, write_rgb_image)


def test_rgb_round_trip(tmp_path):
    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 200  # red
    img[1, 2] = (1, 2, 3)
    path = str(tmp_path / 'x.png')  # lossless
    write_rgb_image(path, img)
    out = load_rgb_image(path)
    assert out.dtype == np.uint8 and out.shape == (4, 6, 3)
    np.testing.assert_array_equal(out, img)  # RGB order kept
    assert image_size(path) == (6, 4)


def test_load_rgb_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='cannot read image .*nope.jpg'):
        load_rgb_image(str(tmp_path / 'nope.jpg'))
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    with pytest.raises(OSError, match='cannot read image'):
        load_rgb_image(str(broken))
    with pytest.raises(OSError, match='cannot read image .*broken.jpg'):
        image_size(str(broken))
    with pytest.raises(OSError, match='could not write'):
        write_rgb_image(str(tmp_path / 'no_such_dir' / 'x.jpg'), np.zeros((2, 2, 3), np.uint8))


def test_crop_size_of():
    assert crop_size_of([0, 0, 10, 40], 2.) == 40  # ceil(sqrt(400) * 2)
    assert crop_size_of([0, 0, 3, 3], 1.5) == 5  # ceil(4.5)
    assert crop_size_of([0, 0, 0, 10], 2.) == 0
    assert crop_size_of([0, 0, float('nan'), 10], 2.) == 0


def test_sample_target_identity_and_shift():
    img = np.arange(64 * 64 * 3, dtype=np.uint8).reshape(64, 64, 3)
    # a 32 x 32 box centred on the image with factor 2 crops the whole image
    crop, r = sample_target(img, [16., 16., 32., 32.], 2., 64)
    assert r == 1.
    np.testing.assert_array_equal(crop, img)
    # shifted by whole pixels: the crop is the image shifted, zero padded
    crop, _ = sample_target(img, [0., 16., 32., 32.], 2., 64)
    np.testing.assert_array_equal(crop[:, 16:], img[:, :48])
    assert not crop[:, :16].any()
    # grayscale keeps 2-D, a 3-D single-channel image keeps its channel axis
    assert sample_target(img[..., 0], [16, 16, 32, 32], 2., 32)[0].shape == (32, 32)
    assert sample_target(img[..., :1], [16, 16, 32, 32], 2., 32)[0].shape == (32, 32, 1)


def test_transform_box_to_crop_and_valid_region():
    # box (10, 20, 20, 10), centre (20, 25); crop centred at (20, 25), r = 2
    out = transform_box_to_crop([10., 20., 20., 10.], (20., 25.), 2., 100, normalize=False)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [30., 40., 40., 20.])
    np.testing.assert_allclose(
        transform_box_to_crop([10., 20., 20., 10.], (20., 25.), 2., 100), [.3, .4, .4, .2])
    # a 40 px crop around (10, 10) of a 100 x 100 image, output 80: x0 = y0 = -10
    assert crop_valid_region((100, 100), (10., 10.), 40., 80) == (20., 20., 80., 80.)

# Frame pairs of Kinetics-400 training videos in the prepared form: JPEG frame
# folders (mmaction2 rawframes, img_00001.jpg ...) written once by
#   python tools/dataset_converters/prepare_kinetics.py \
#       data/kinetics400/train data/kinetics400/train_rawframes --workers 16
# Same pair sampling (frame gap 50 on the same frame count) and the same
# augmentation as kinetics400_pairs.py; only the data set and the loading
# step differ (docs/video_preparation.md).
_base_ = ['./kinetics400_pairs.py']

dataset_type = 'RawframePairDataset'
data_root = 'data/kinetics400/train_rawframes'

train_pipeline = [
    # start ~ U[0, len-2], end ~ U[start+1, min(len, start+50)-1]
    dict(type='LoadFramePairFromFrames', frame_gap=step['frame_gap'])
    if step['type'] == 'LoadFramePairFromVideo' else step
    for step in _base_.train_pipeline
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        # written by prepare_kinetics.py: frame_dir<TAB>total_frames<TAB>label
        ann_file='rawframes_list.txt',
        pipeline=train_pipeline))

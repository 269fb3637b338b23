"""Layers. Each file holds one family: module/container (the machinery), then the layers."""
from .module import Module, Parameter
from .container import Sequential, ModuleList, ModuleDict
from .linear import Linear
from .sparse import Embedding
from .dropout import Dropout
from .activation import Tanh, ReLU, Sigmoid, Softmax, LogSoftmax
from .flatten import Flatten
from .conv import Conv2d
from .pooling import MaxPool2d
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .rnn_cells import RNNCell, LSTMCell, GRUCell
from .rnn import RNN, LSTM, GRU
from .loss import NLLLoss, CrossEntropyLoss, MSELoss
from .recording import GRAPH_MODES, recorded_as
